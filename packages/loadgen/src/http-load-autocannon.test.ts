import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runHttpLoad } from './http-load.js';
import { parseWrkOutput, runWrk, wrkAvailable } from './wrk-load.js';

// Tests here make timed autocannon runs, ~2 s a test on an idle 2-core machine; a CI runner running every
// package's tests at once was ~1.8x slower (a 2.8 s relay test timed out at vitest's 5 s default there).
vi.setConfig({ testTimeout: 30_000 });

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('runHttpLoad (autocannon)', () => {
  it('counts responses the server actually served and reports non-2xx separately', async () => {
    let served = 0;
    const url = await listen((req, res) => {
      served++;
      res.statusCode = req.url === '/bad' ? 500 : 200;
      res.end('Hello, World!');
    });
    const result = await runHttpLoad({ url: `${url}/`, connections: 4, durationSec: 1 });
    expect(result.requests).toBeGreaterThan(50);
    // autocannon may have a few requests in flight when it stops; the server saw at least what was counted.
    expect(served).toBeGreaterThanOrEqual(result.requests);
    expect(result.requestsPerSec).toBeCloseTo(result.requests / result.durationSec, 5);
    expect(result.non2xx).toBe(0);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
    expect(result.loadgenCpu?.cpuPercent).toBeGreaterThan(0);
    const bad = await runHttpLoad({ url: `${url}/bad`, connections: 2, durationSec: 1 });
    expect(bad.non2xx).toBe(bad.requests);
  });

  it('stops early when aborted', async () => {
    const url = await listen((_req, res) => res.end('ok'));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    const err = await runHttpLoad({ url, connections: 2, durationSec: 10, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toBe('IOLAB_LOADGEN_ABORTED');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('runWrk', () => {
  it('parses wrk --latency output', () => {
    const parsed = parseWrkOutput(`Running 1s test @ http://127.0.0.1:1/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   150.00us   50.00us   2.50ms   90.00%
    Req/Sec    20.00k     1.00k   22.00k    80.00%
  Latency Distribution
     50%  140.00us
     75%  160.00us
     90%  200.00us
     99%    1.20ms
  20000 requests in 1.00s, 2.00MB read
  Socket errors: connect 1, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  19990.00
Transfer/sec:      2.00MB
`);
    expect(parsed.requests).toBe(20000);
    expect(parsed.requestsPerSec).toBe(19990);
    expect(parsed.latencyMs.p50).toBeCloseTo(0.14);
    expect(parsed.latencyMs.p99).toBeCloseTo(1.2);
    expect(parsed.latencyMs.max).toBeCloseTo(2.5);
    expect(parsed.bytes).toBe(2 * 1024 * 1024);
    expect(parsed.errors).toBe(6);
    expect(parsed.timeouts).toBe(3);
    expect(parsed.non2xx).toBe(7);
  });

  it.skipIf(!wrkAvailable())('drives a real server (wrk installed)', async () => {
    let served = 0;
    const url = await listen((_req, res) => {
      served++;
      res.end('Hello, World!');
    });
    const result = await runWrk({ url: `${url}/`, connections: 4, durationSec: 1, pipelining: 2 });
    expect(result.tool).toBe('wrk');
    expect(result.requests).toBeGreaterThan(50);
    expect(served).toBeGreaterThanOrEqual(result.requests);
    expect(result.commandLine).toContain('--latency');
  });
});

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runFramedLoad } from './framed-load.js';

// Tests here make timed load runs of 1.5 s each, up to ~3 s a test on an idle 2-core machine; a CI runner
// running every package's tests at once was ~1.8x slower (a 2.8 s relay test timed out at vitest's 5 s
// default there).
vi.setConfig({ testTimeout: 30_000 });

// Real loopback servers speaking the framed protocols, written here from the frame format so the
// generator is tested against bytes it did not produce itself.
interface EchoServerOptions {
  /** Flip one payload byte in every n-th response. */
  corruptEvery?: number;
  /** Stop answering for `ms` once, `afterMs` after the first request. */
  stall?: { afterMs: number; ms: number };
  closeOnAccept?: boolean;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s) => {
    sockets.add(s);
    // The generator resets connections when it stops; that is not a test failure.
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function lpServer(options: EchoServerOptions = {}): { server: Server; stats: { requests: number } } {
  const stats = { requests: 0 };
  let firstAt = 0;
  let holding = false;
  let stalled = false;
  const server = createServer((socket) => {
    if (options.closeOnAccept) {
      socket.destroy();
      return;
    }
    let buf = Buffer.alloc(0);
    const held: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const out: Buffer[] = [];
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const length = buf.readUInt32BE(0);
        const op = buf[4];
        const payload = buf.subarray(5, 4 + length);
        buf = buf.subarray(4 + length);
        stats.requests++;
        const body = Buffer.from(op === 1 ? payload : Buffer.from('done'));
        if (options.corruptEvery && stats.requests % options.corruptEvery === 0 && body.length > 0) {
          body[body.length - 1] = (body[body.length - 1] as number) ^ 0xff;
        }
        const head = Buffer.alloc(5);
        head.writeUInt32BE(1 + body.length, 0);
        out.push(head, body);
      }
      const now = Date.now();
      if (!firstAt) firstAt = now;
      if (options.stall && !stalled && now - firstAt >= options.stall.afterMs) {
        stalled = true;
        holding = true;
        // The stall ends when this timer fires, not at a clock reading: a timer fires early or late, and a
        // response written around the held ones (or held after their flush) would break the echo order.
        setTimeout(() => {
          holding = false;
          socket.write(Buffer.concat(held.splice(0)));
        }, options.stall.ms);
      }
      if (holding) held.push(...out);
      else if (out.length) socket.write(Buffer.concat(out));
    });
  });
  return { server, stats };
}

function lineServer(): Server {
  return createServer((socket) => {
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      socket.write(
        lines.map((l) => (l.startsWith('ECHO ') ? `OK ${l.slice(5)}\n` : 'ERR unknown\n')).join(''),
      );
    });
  });
}

describe('runFramedLoad', () => {
  it('closed loop: every request sent is answered, verified and counted once', async () => {
    const { server, stats } = lpServer();
    const port = await listen(server);
    const r = await runFramedLoad({
      host: '127.0.0.1',
      port,
      protocol: 'echo-lp',
      op: { kind: 'echo', size: 64 },
      connections: 4,
      depth: 8,
      durationSec: 1,
      warmupSec: 0.2,
    });
    expect(r.mode).toBe('closed');
    expect(r.connectionsEstablished).toBe(4);
    expect(r.completed).toBeGreaterThan(100);
    expect(r.completed).toBe(r.sent);
    expect(r.errors + r.verifyFailures + r.unanswered + r.connectErrors).toBe(0);
    // The server saw the counted requests plus warm-up ones.
    expect(stats.requests).toBeGreaterThan(r.sent);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50);
    expect(r.requestsPerSec).toBeCloseTo(r.completed, 5);
  });

  it('open loop: holds the offered rate within generous bounds', async () => {
    const { server } = lpServer();
    const port = await listen(server);
    const r = await runFramedLoad({
      host: '127.0.0.1',
      port,
      protocol: 'echo-lp',
      connections: 4,
      rate: 1000,
      durationSec: 2,
    });
    expect(r.mode).toBe('open');
    expect(r.completed).toBeGreaterThan(2000 * 0.7);
    expect(r.completed).toBeLessThan(2000 * 1.3);
    expect(r.sendLagMs).toBeDefined();
    expect(r.verifyFailures).toBe(0);
  });

  it('verification catches a server that corrupts one byte', async () => {
    const { server } = lpServer({ corruptEvery: 50 });
    const port = await listen(server);
    const r = await runFramedLoad({
      host: '127.0.0.1',
      port,
      protocol: 'echo-lp',
      op: { kind: 'echo', size: 32 },
      connections: 2,
      depth: 4,
      durationSec: 0.5,
    });
    expect(r.verifyFailures).toBeGreaterThan(0);
    const ratio = r.verifyFailures / (r.verifyFailures + r.completed);
    expect(ratio).toBeGreaterThan(0.01);
    expect(ratio).toBeLessThan(0.04);
  });

  it('open loop charges a server stall to every request it delayed; closed loop hides it', async () => {
    const stall = { afterMs: 400, ms: 400 };
    const open = lpServer({ stall });
    const openPort = await listen(open.server);
    const openResult = await runFramedLoad({
      host: '127.0.0.1',
      port: openPort,
      protocol: 'echo-lp',
      connections: 1,
      rate: 500,
      durationSec: 1.5,
    });
    const closed = lpServer({ stall });
    const closedPort = await listen(closed.server);
    const closedResult = await runFramedLoad({
      host: '127.0.0.1',
      port: closedPort,
      protocol: 'echo-lp',
      connections: 1,
      depth: 1,
      durationSec: 1.5,
    });
    // ~200 of ~750 open-loop requests were scheduled during the stall: p90 must show it.
    expect(openResult.latencyMs.p90).toBeGreaterThan(100);
    // Closed loop sent one request into the stall, so its p90 stays small (coordinated omission).
    expect(closedResult.latencyMs.p90).toBeLessThan(100);
    expect(closedResult.latencyMs.max).toBeGreaterThan(300);
  });

  it('echo-line: verifies line echoes and counts error lines', async () => {
    const port = await listen(lineServer());
    const ok = await runFramedLoad({
      host: '127.0.0.1',
      port,
      protocol: 'echo-line',
      op: { kind: 'echo', size: 20 },
      connections: 2,
      depth: 4,
      durationSec: 0.5,
    });
    expect(ok.completed).toBeGreaterThan(50);
    expect(ok.errors + ok.verifyFailures).toBe(0);
    const err = await runFramedLoad({
      host: '127.0.0.1',
      port,
      protocol: 'echo-line',
      op: { kind: 'sleep', ms: 1 },
      connections: 1,
      durationSec: 0.3,
    });
    expect(err.completed).toBe(0);
    expect(err.errors).toBe(err.sent);
  });

  it('counts refused connects and servers that close on accept', async () => {
    const gone = createServer();
    const port = await listen(gone);
    await new Promise((r) => gone.close(r));
    servers.splice(servers.indexOf(gone), 1);
    const refused = await runFramedLoad({
      host: '127.0.0.1',
      port,
      protocol: 'echo-lp',
      connections: 3,
      durationSec: 0.2,
    });
    expect(refused.connectErrors).toBe(3);
    expect(refused.refused).toBe(3);
    expect(refused.completed).toBe(0);

    const { server } = lpServer({ closeOnAccept: true });
    const closePort = await listen(server);
    const closing = await runFramedLoad({
      host: '127.0.0.1',
      port: closePort,
      protocol: 'echo-lp',
      connections: 3,
      durationSec: 0.3,
    });
    expect(closing.closedBeforeResponse).toBe(3);
    expect(closing.completed).toBe(0);
  });

  it('rejects bad options with a typed error and stops on abort', async () => {
    await expect(
      runFramedLoad({ host: '127.0.0.1', port: 1, protocol: 'echo-lp', connections: 0, durationSec: 1 }),
    ).rejects.toMatchObject({ code: 'IOLAB_LOADGEN_BAD_OPTION' });
    const { server } = lpServer();
    const port = await listen(server);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    await expect(
      runFramedLoad({
        host: '127.0.0.1',
        port,
        protocol: 'echo-lp',
        connections: 2,
        durationSec: 10,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'IOLAB_LOADGEN_ABORTED' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

/**
 * A reload that cannot bind (the new port is taken) leaves the old listener answering and the process
 * running — with and without --admin, in one process and with workers — and reports the error (log line,
 * admin /reload response). HAProxy and nginx keep the old configuration until the new one is fully bound.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  registerCleanup,
  sleep,
  startBalance,
  startIdBackend,
  whoServes,
} from './test-balance-process.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-balance-reload-taken-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'reload-test-token-0123456789';

function config(listenerPort: number, backendPort: number, extra: Record<string, unknown>): string {
  return JSON.stringify({
    listeners: [{ name: 'main', host: '127.0.0.1', port: listenerPort, pool: 'web' }],
    pools: [
      { name: 'web', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backendPort }] },
    ],
    ...extra,
  });
}

/** Holds a loopback port (what "a port already in use" means) until cleanup. */
async function takePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  registerCleanup(() => new Promise<void>((r) => s.close(() => r())));
  return (s.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const variants = [
  { name: 'without --admin', extra: {} },
  { name: 'with --admin', extra: { admin: { port: 0, token: TOKEN } } },
  { name: 'with --admin and 2 workers', extra: { admin: { port: 0, token: TOKEN }, workers: 2 } },
];

describe('iolab balance: a reload to a taken port never drops service', { timeout: 40_000 }, () => {
  for (const v of variants) {
    it(`${v.name}: the old listener keeps answering, the error is reported, the process lives`, async () => {
      const a = await startIdBackend('A');
      const file = join(dir, `lb-${v.name.replace(/\W+/g, '-')}.json`);
      writeFileSync(file, config(0, a.port, v.extra));
      const proc = startBalance(['--config', file]);
      const port = Number((await proc.untilOutput(/^listening on 127\.0\.0\.1:(\d+)$/m))[1]);
      expect(await whoServes(port)).toBe('A');

      const taken = await takePort();
      writeFileSync(file, config(taken, a.port, v.extra));
      proc.child.kill('SIGHUP');
      await until(() => proc.logs().some((l) => l.event === 'reload-failed'), 'reload-failed');
      const failed = proc.logs().find((l) => l.event === 'reload-failed')!;
      expect(failed.code).toBe('IOLAB_BALANCER_LISTEN_FAILED');
      expect(String(failed.err)).toMatch(new RegExp(`127\\.0\\.0\\.1:${taken}: EADDRINUSE`));
      // Still serving on the old port, and still running a while later.
      expect(await whoServes(port)).toBe('A');
      await sleep(300);
      expect(proc.child.exitCode).toBeNull();
      expect(await whoServes(port)).toBe('A');

      if ('admin' in v.extra) {
        const adminPort = Number((await proc.untilOutput(/^admin on 127\.0\.0\.1:(\d+)$/m))[1]);
        const res = await fetch(`http://127.0.0.1:${adminPort}/reload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        });
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(res.status).toBe(409);
        expect(body.error.code).toBe('IOLAB_BALANCER_LISTEN_FAILED');
        expect(body.error.message).toMatch(/EADDRINUSE/);
        expect(await whoServes(port)).toBe('A');
      }

      // A reload that can bind moves the listener: the new port answers before the old one is closed.
      const next = await freePort();
      writeFileSync(file, config(next, a.port, v.extra));
      proc.child.kill('SIGHUP');
      await until(() => proc.logs().some((l) => l.event === 'reload-ok'), 'reload-ok');
      expect(await whoServes(next)).toBe('A');
      await expect(whoServes(port)).rejects.toThrow(/ECONNREFUSED/);

      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    });
  }
});

/**
 * `iolab balance --workers 2` supervises its workers: SIGKILL one under load, and the balancer keeps
 * serving, answers admin calls and SIGHUP, and is back to two workers (nginx's master respawns its workers).
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, countBy, startBalance, startIdBackend, whoServes } from './test-balance-process.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-balance-supervision-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'supervision-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

function config(backends: { id: string; port: number }[]): string {
  return JSON.stringify({
    listeners: [{ name: 'main', port: 0, pool: 'default' }],
    pools: [
      {
        name: 'default',
        health: { enabled: false },
        backends: backends.map((b) => ({ id: b.id, host: '127.0.0.1', port: b.port })),
      },
    ],
    workers: 2,
    admin: { port: 0, token: TOKEN },
  });
}

/** Pids of `ppid`'s live children, from /proc. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the ")" closing the command name: state ppid …
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) === ppid && state !== 'Z') out.push(Number(e));
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

describe('iolab balance --workers: supervision', { timeout: 60_000 }, () => {
  it('after SIGKILL of one of two workers under load it keeps serving, answers admin calls and SIGHUP, and is back to two workers', async () => {
    const a = await startIdBackend('A');
    const b = await startIdBackend('B');
    const file = join(dir, 'balancer.json');
    writeFileSync(
      file,
      config([
        { id: 'a', port: a.port },
        { id: 'b', port: b.port },
      ]),
    );
    const proc = startBalance(['--config', file]);
    const port = Number((await proc.untilOutput(/^listening on 127\.0\.0\.1:(\d+)$/m))[1]);
    const adminPort = Number((await proc.untilOutput(/^admin on 127\.0\.0\.1:(\d+)$/m))[1]);
    const admin = `http://127.0.0.1:${adminPort}`;
    const primary = proc.child.pid!;
    await until(() => childrenOf(primary).length === 2, 'two workers');
    const [victim, survivor] = childrenOf(primary);

    // Load: 4 clients looping on new connections.
    let running = true;
    const results: { at: number; ok: boolean; id?: string }[] = [];
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const at = Date.now();
        try {
          const id = await whoServes(port);
          results.push({ at, ok: /^[ABC]$/.test(id), id });
        } catch {
          results.push({ at, ok: false });
        }
      }
    });
    await until(() => results.length > 50, 'load to run');
    process.kill(victim!, 'SIGKILL');
    const killedAt = Date.now();

    // Admin calls answer at once, from the live worker, while the dead one is being respawned.
    const stats = await fetch(`${admin}/stats`, { headers: auth });
    expect(stats.status).toBe(200);
    expect(
      (await fetch(`${admin}/pools/default/backends/a/drain`, { method: 'POST', headers: auth })).status,
    ).toBe(200);
    expect(
      (await fetch(`${admin}/pools/default/backends/a/enable`, { method: 'POST', headers: auth })).status,
    ).toBe(200);

    await until(() => proc.logs().some((l) => l.event === 'worker-respawned'), 'worker-respawned', 20_000);
    const exit = proc.logs().find((l) => l.event === 'worker-exit');
    expect(exit).toMatchObject({ signal: 'SIGKILL' });
    expect(proc.logs().find((l) => l.event === 'worker-respawn')).toMatchObject({
      delayMs: expect.any(Number),
    });
    await until(() => childrenOf(primary).length === 2, 'two workers again');
    expect(childrenOf(primary)).toContain(survivor);
    const s = (await (await fetch(`${admin}/stats`, { headers: auth })).json()) as {
      workers: { configured: number; live: number };
    };
    expect(s.workers).toEqual({ configured: 2, live: 2 });
    await until(
      () => results.filter((r) => r.at > Date.now() - 2000 && r.ok).length > 20,
      'load after respawn',
    );

    // SIGHUP reaches every worker, the respawned one included.
    const c = await startIdBackend('C');
    writeFileSync(file, config([{ id: 'c', port: c.port }]));
    proc.child.kill('SIGHUP');
    await until(() => proc.logs().some((l) => l.event === 'reload-ok'), 'reload-ok');
    running = false;
    await Promise.all(loops);
    expect(countBy(await Promise.all(Array.from({ length: 8 }, () => whoServes(port))))).toEqual({ C: 8 });
    const pidsServingC = () =>
      new Set(
        proc
          .logs()
          .filter((l) => l.event === 'connection-end' && l.backend === 'c')
          .map((l) => l.pid),
      );
    for (let i = 0; i < 20 && pidsServingC().size < 2; i++) await whoServes(port);
    await until(() => pidsServingC().size === 2, 'both workers (one respawned) to serve c');

    // Kept serving: only connections caught in the killed worker failed, none started a second after.
    const failed = results.filter((r) => !r.ok);
    console.log(
      'worker SIGKILL under load:',
      JSON.stringify({
        requests: results.length,
        failed: failed.length,
        afterKill: results.filter((r) => r.at > killedAt).length,
      }),
    );
    expect(failed.filter((r) => r.at > killedAt + 1000)).toEqual([]);
    expect(results.filter((r) => r.at > killedAt && r.ok).length).toBeGreaterThan(50);

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });
});

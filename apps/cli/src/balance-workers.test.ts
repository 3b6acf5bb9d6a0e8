import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, countBy, startBalance, startIdBackend, whoServes } from './test-balance-process.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-balance-workers-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'workers-test-token-0123456789';
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('iolab balance --workers', { timeout: 40_000 }, () => {
  it('workers share the port; the primary aggregates stats and metrics and fans out operations and reloads', async () => {
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

    const n = 12;
    for (let i = 0; i < n; i++) await whoServes(port);
    await until(
      () => proc.logs().filter((l) => l.event === 'connection-end').length === n,
      'connection ends',
    );
    const ends = proc.logs().filter((l) => l.event === 'connection-end');
    const workerPids = [...new Set(ends.map((e) => e.pid as number))];
    // Node's cluster hands connections out round-robin: both workers served.
    expect(workerPids, proc.stderr().slice(-2000)).toHaveLength(2);

    const stats = (await (await fetch(`${admin}/backends`, { headers: auth })).json()) as {
      pools: { backends: { id: string; total: number; stateByWorker: string[] }[] }[];
    };
    const backends = stats.pools[0]!.backends;
    expect(backends.reduce((s, x) => s + x.total, 0)).toBe(n);
    expect(backends[0]!.stateByWorker).toEqual(['up', 'up']);

    const metrics = await (await fetch(`${admin}/metrics`, { headers: auth })).text();
    const total = [...metrics.matchAll(/^iolab_balancer_backend_connections_total\{[^}]*\} (\d+)$/gm)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    expect(total).toBe(n);

    // Drain reaches every worker: nothing new goes to a.
    expect(
      (await fetch(`${admin}/pools/default/backends/a/drain`, { method: 'POST', headers: auth })).status,
    ).toBe(200);
    const after = countBy(await Promise.all(Array.from({ length: 8 }, () => whoServes(port))));
    expect(after).toEqual({ B: 8 });
    // An operation that fails in the workers fails in the API too.
    const missing = await fetch(`${admin}/pools/default/backends/zzz/drain`, {
      method: 'POST',
      headers: auth,
    });
    expect(missing.status).toBe(404);

    // SIGHUP: the primary validates the file and every worker applies it.
    const c = await startIdBackend('C');
    writeFileSync(file, config([{ id: 'c', port: c.port }]));
    proc.child.kill('SIGHUP');
    await until(() => proc.logs().some((l) => l.event === 'reload-ok'), 'reload-ok');
    expect(countBy(await Promise.all(Array.from({ length: 8 }, () => whoServes(port))))).toEqual({ C: 8 });
    // Cluster round-robin spreads those 8 over both workers: each applied the reload.
    const pidsServing = (id: string) =>
      new Set(
        proc
          .logs()
          .filter((l) => l.event === 'connection-end' && l.backend === id)
          .map((l) => l.pid),
      );
    await until(() => pidsServing('c').size === 2, 'both workers to serve c');

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    await until(() => workerPids.every((p) => !isAlive(p)), 'workers to exit', 5000);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  countBy,
  startBalance,
  startIdBackend,
  waitUntil,
  whoServes,
} from './test-balance-process.js';

afterEach(cleanup);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('iolab balance --workers', { timeout: 40_000 }, () => {
  it('workers share the port; the primary aggregates admin stats and metrics and fans out operations', async () => {
    const a = await startIdBackend('A');
    const b = await startIdBackend('B');
    const proc = startBalance([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      `127.0.0.1:${a.port},id=a`,
      '--backend',
      `127.0.0.1:${b.port},id=b`,
      '--no-health',
      '--workers',
      '2',
      '--admin',
      '127.0.0.1:0',
    ]);
    const port = Number((await proc.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m))[1]);
    const adminPort = Number((await proc.waitFor(/^admin on 127\.0\.0\.1:(\d+)$/m))[1]);
    const admin = `http://127.0.0.1:${adminPort}`;

    const n = 12;
    for (let i = 0; i < n; i++) await whoServes(port);
    await waitUntil(
      () => proc.logs().filter((l) => l.event === 'connection-end').length === n,
      'connection ends',
    );
    const ends = proc.logs().filter((l) => l.event === 'connection-end');
    const workerPids = [...new Set(ends.map((e) => e.pid as number))];
    // Node's cluster hands connections out round-robin: both workers served.
    expect(workerPids).toHaveLength(2);

    const stats = (await (await fetch(`${admin}/backends`)).json()) as {
      pools: { backends: { id: string; total: number; stateByWorker: string[] }[] }[];
    };
    const backends = stats.pools[0]!.backends;
    expect(backends.reduce((s, x) => s + x.total, 0)).toBe(n);
    expect(backends[0]!.stateByWorker).toEqual(['up', 'up']);

    const metrics = await (await fetch(`${admin}/metrics`)).text();
    const total = [...metrics.matchAll(/^iolab_balancer_backend_connections_total\{[^}]*\} (\d+)$/gm)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    expect(total).toBe(n);

    // Drain reaches every worker: nothing new goes to a.
    expect((await fetch(`${admin}/pools/default/backends/a/drain`, { method: 'POST' })).status).toBe(200);
    const after = countBy(await Promise.all(Array.from({ length: 8 }, () => whoServes(port))));
    expect(after).toEqual({ B: 8 });
    // An operation that fails in the workers fails in the API too.
    const missing = await fetch(`${admin}/pools/default/backends/zzz/drain`, { method: 'POST' });
    expect(missing.status).toBe(404);

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    await waitUntil(() => workerPids.every((p) => !isAlive(p)), 'workers to exit', 5000);
  });
});

/**
 * `serve loop --workers N` supervises its workers: SIGKILL one under load and the primary respawns it (with
 * a log line), keeps serving through the other, and counts both again. Real worker processes, real HTTP.
 */
import cluster from 'node:cluster';
import type { RunningServer } from '@iolab/server-core';
import { until } from '@iolab/testkit';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoop } from './start-loop.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(1000)));
});

describe('loop cluster supervision', () => {
  it('a worker killed with SIGKILL under load is respawned with a log line; the other keeps serving', async () => {
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      const server = await startLoop({ protocol: 'http', workers: 2 });
      servers.push(server);
      const url = `http://127.0.0.1:${server.address.port}/plaintext`;
      const workers = () =>
        Object.values(cluster.workers ?? {}).filter(
          (w): w is NonNullable<typeof w> => w !== undefined && !w.isDead(),
        );
      expect(workers()).toHaveLength(2);
      const victim = workers()[0]!;
      const victimPid = victim.process.pid;

      let running = true;
      const results: { at: number; ok: boolean }[] = [];
      const loops = Array.from({ length: 4 }, async () => {
        while (running) {
          const at = Date.now();
          try {
            const res = await request(url, { reset: true, headersTimeout: 5000, bodyTimeout: 5000 });
            results.push({ at, ok: (await res.body.text()) === 'Hello, World!' });
          } catch {
            results.push({ at, ok: false });
          }
        }
      });
      await until(() => results.length > 50, 'load', 15_000);
      victim.process.kill('SIGKILL');
      const killedAt = Date.now();
      await until(() => logged.some((l) => /respawned \(2 alive\)/.test(l)), 'respawn', 15_000).catch(
        (e: Error) => {
          throw new Error(`${e.message}; stderr: ${logged.join('')}; results ${results.length}`);
        },
      );
      expect(logged.join('')).toMatch(/worker 0 \(pid \d+\) exited \(SIGKILL\); respawning in \d+ ms/);
      expect(workers()).toHaveLength(2);
      expect(workers().map((w) => w.process.pid)).not.toContain(victimPid);
      expect(server.stats().threadsAlive).toBe(2);
      await until(
        () => results.filter((r) => r.at > Date.now() - 1000 && r.ok).length > 20,
        'load after',
        15_000,
      );
      running = false;
      await Promise.all(loops);
      const late = results.filter((r) => !r.ok && r.at > killedAt + 1000);
      expect(late).toEqual([]);
      expect(results.filter((r) => r.ok && r.at > killedAt).length).toBeGreaterThan(20);
    } finally {
      process.stderr.write = write;
    }
  }, 40_000);
});

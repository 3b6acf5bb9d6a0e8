import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectClient, readLine, startBackend, startBalancer, whoServes } from '../test-support.js';
import { ConfigFileError, loadBalancerConfigFile } from './config-schema.js';
import { createBalancerLogger } from './logging.js';
import { createReloader } from './reload.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-reload-test-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configFor = (ports: number[], listenerPort: number) =>
  JSON.stringify({
    listeners: [{ name: 'main', port: listenerPort, pool: 'web' }],
    pools: [
      {
        name: 'web',
        health: { enabled: false },
        backends: ports.map((port) => ({ host: '127.0.0.1', port })),
      },
    ],
  });

describe('reload', () => {
  it('applies a valid file to a running balancer, keeps the old config on a bad one, and coalesces', async () => {
    const a = await startBackend('A', 'id');
    const b = await startBackend('B', 'id');
    const file = join(dir, 'lb.json');
    writeFileSync(file, configFor([a.port], 0));
    const initial = await loadBalancerConfigFile(file);
    const { lb, port } = await startBalancer(initial.balancer);
    // Keep the bound port across reloads (port 0 in the file would mean "any").
    writeFileSync(file, configFor([a.port], port));
    await lb.update((await loadBalancerConfigFile(file)).balancer);

    const logFile = join(dir, 'reload.log');
    const fd = openSync(logFile, 'w');
    let loads = 0;
    try {
      const reloader = createReloader({
        logger: createBalancerLogger({ fd, sync: true }),
        load: async () => {
          loads++;
          return loadBalancerConfigFile(file);
        },
        apply: async (next) => {
          await lb.update(next.balancer);
        },
      });

      const established = await connectClient(port);
      expect(await readLine(established)).toBe('A');

      writeFileSync(file, configFor([b.port], port));
      // Three requests while one runs: one reload now, exactly one more after it.
      await Promise.all([reloader.reload(), reloader.reload(), reloader.reload()]);
      expect(loads).toBe(2);
      expect(await whoServes(port)).toBe('B');

      writeFileSync(file, configFor([70000], port));
      await expect(reloader.reload()).rejects.toBeInstanceOf(ConfigFileError);
      expect(await whoServes(port)).toBe('B');
      // The connection from before the first reload was never touched.
      established.write('ping\n');
      expect(await readLine(established)).toBe('ping');

      const events = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: string; issues?: { pointer: string }[] });
      expect(events.filter((e) => e.event === 'reload-ok')).toHaveLength(2);
      const failed = events.find((e) => e.event === 'reload-failed');
      expect(failed?.issues?.[0]?.pointer).toBe('/pools/0/backends/0/port');
    } finally {
      closeSync(fd);
    }
  });
});

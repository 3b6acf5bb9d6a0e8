import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectClient, readLine, startBackend, startBalancer } from '../test-support.js';
import { attachBalancerLogging, createBalancerLogger } from './logging.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-log-test-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('structured logs', () => {
  it('writes one JSON line per connection end with client, backend, bytes, duration and who closed', async () => {
    const file = join(dir, 'ends.log');
    const fd = openSync(file, 'w');
    try {
      const a = await startBackend('A', 'echo');
      const { lb, port } = await startBalancer({
        listeners: [{ port: 0, pool: 'web' }],
        pools: [
          {
            name: 'web',
            health: { enabled: false },
            backends: [{ id: 'a', host: '127.0.0.1', port: a.port }],
          },
        ],
      });
      const logger = createBalancerLogger({ fd, sync: true });
      attachBalancerLogging(lb, logger);

      // Client closes first after an echo of 6 bytes.
      const c1 = await connectClient(port);
      c1.write('hello\n');
      expect(await readLine(c1)).toBe('hello');
      c1.end();
      // Backend closes first: kill it while a second client is connected.
      const c2 = await connectClient(port);
      c2.write('x\n');
      await readLine(c2);
      // The client answers the backend's FIN with its own (it was opened half-open capable).
      c2.once('end', () => c2.end());
      await until(() => a.sockets.size === 1, 'backend to hold one socket', 2000);
      for (const s of a.sockets) s.end();
      await until(
        () => lines(file).filter((l) => l.event === 'connection-end').length === 2,
        'two ends',
        5000,
      );

      const ends = lines(file).filter((l) => l.event === 'connection-end');
      expect(ends).toHaveLength(2);
      const first = ends.find((e) => e.bytesIn === 6)!;
      expect(first).toMatchObject({
        level: 30,
        event: 'connection-end',
        pool: 'web',
        backend: 'a',
        bytesIn: 6,
        bytesOut: 6,
        closedBy: 'client',
        reason: 'end',
        attempts: 1,
      });
      expect(first.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(typeof first.durationMs).toBe('number');
      const second = ends.find((e) => e.bytesIn === 2)!;
      expect(second).toMatchObject({ closedBy: 'backend', backend: 'a' });
    } finally {
      closeSync(fd);
    }
  });

  it('logs backend state changes, at warn when a backend goes down', async () => {
    const file = join(dir, 'state.log');
    const fd = openSync(file, 'w');
    try {
      const a = await startBackend('A');
      const { lb } = await startBalancer({
        listeners: [{ port: 0, pool: 'web' }],
        pools: [
          {
            name: 'web',
            health: { interval: 50, fall: 1, rise: 1, timeout: 200 },
            backends: [{ id: 'a', host: '127.0.0.1', port: a.port }],
          },
        ],
      });
      attachBalancerLogging(lb, createBalancerLogger({ fd, sync: true }));
      lb.drain('web', 'a');
      lb.enable('web', 'a');
      await a.kill();
      await until(
        () => lines(file).some((l) => l.event === 'backend-state' && l.to === 'down'),
        'down',
        5000,
      );
      const states = lines(file).filter((l) => l.event === 'backend-state');
      expect(states[0]).toMatchObject({
        level: 30,
        backend: 'a',
        from: 'up',
        to: 'draining',
        cause: 'admin',
      });
      expect(states.find((s) => s.to === 'down')).toMatchObject({ level: 40, cause: 'check' });
    } finally {
      closeSync(fd);
    }
  });

  it('honours the level: info lines disappear at warn', async () => {
    const file = join(dir, 'level.log');
    const fd = openSync(file, 'w');
    try {
      const a = await startBackend('A', 'id-close');
      const { lb, port } = await startBalancer({
        listeners: [{ port: 0, pool: 'web' }],
        pools: [{ name: 'web', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: a.port }] }],
      });
      const ends: unknown[] = [];
      lb.on('connection-end', (e) => ends.push(e));
      attachBalancerLogging(lb, createBalancerLogger({ fd, sync: true, level: 'warn' }));
      const c = await connectClient(port);
      c.once('end', () => c.end());
      await readLine(c);
      await until(() => ends.length === 1, 'connection end', 2000);
      expect(lines(file)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});

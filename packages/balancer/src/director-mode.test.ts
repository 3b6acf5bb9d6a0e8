import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionEndEvent } from './balancer-api.js';
import { cleanup, connectClient, readAll, startBackend, startBalancer } from './test-support.js';

afterEach(cleanup);

async function ask(port: number): Promise<string> {
  const c = await connectClient(port);
  const reply = (await readAll(c)).toString();
  c.end();
  return reply;
}

describe('director mode', () => {
  it('answers host:port of the chosen backend and closes; the client can then connect there', async () => {
    const a = await startBackend('a');
    const b = await startBackend('b');
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p', mode: 'director' }],
      pools: [
        {
          name: 'p',
          health: { interval: 50, fall: 2, rise: 2 },
          backends: [
            { id: 'a', host: '127.0.0.1', port: a.port },
            { id: 'b', host: '127.0.0.1', port: b.port },
          ],
        },
      ],
    });
    const ends: ConnectionEndEvent[] = [];
    lb.on('connection-end', (e) => ends.push(e));
    const replies = [await ask(port), await ask(port), await ask(port)];
    expect(replies).toEqual([`127.0.0.1:${a.port}\n`, `127.0.0.1:${b.port}\n`, `127.0.0.1:${a.port}\n`]);
    // Follow the directions.
    const [, p] = replies[1]!.trim().split(':');
    const direct = await connectClient(Number(p));
    direct.end();
    expect((await readAll(direct)).toString()).toBe('b\n');
    // Same health as proxy mode: a dead backend is no longer named.
    await a.kill();
    await until(() => lb.stats().pools[0]!.backends[0]!.state === 'down', 'a down', 3000);
    expect([await ask(port), await ask(port)]).toEqual([`127.0.0.1:${b.port}\n`, `127.0.0.1:${b.port}\n`]);
    expect(lb.stats().pools[0]!.backends[1]!.directed).toBe(3);
    await until(() => ends.length === 5, 'ends', 1000);
    expect(ends[0]).toMatchObject({
      backend: 'a',
      closedBy: 'balancer',
      reason: 'end',
      bytesOut: replies[0]!.length,
    });
  });

  it('answers nothing (just closes) when no backend is up', async () => {
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p', mode: 'director' }],
      pools: [{ name: 'p', backends: [] }],
    });
    const ends: ConnectionEndEvent[] = [];
    lb.on('connection-end', (e) => ends.push(e));
    expect(await ask(port)).toBe('');
    await until(() => ends.length === 1, 'end', 1000);
    expect(ends[0]!.reason).toBe('IOLAB_BALANCER_NO_BACKEND');
  });
});

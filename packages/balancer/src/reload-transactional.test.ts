/**
 * `update()` is all or nothing: every new or moved listener is bound before anything changes, and a bind
 * failure leaves the running config exactly as it was (listeners, pools, backends).
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BalancerError } from './errors.js';
import { cleanup, startBackend, startBalancer, whoServes } from './test-support.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
  await cleanup();
});

async function takePort(): Promise<number> {
  const s = createServer();
  held.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
}

describe('update() is transactional', () => {
  it('a listener that cannot bind leaves every listener, pool and backend as it was', async () => {
    const a = await startBackend('A');
    const b = await startBackend('B');
    const { lb, port } = await startBalancer({
      listeners: [{ name: 'main', port: 0, pool: 'web' }],
      pools: [
        { name: 'web', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
      ],
    });
    const before = lb.stats();
    const taken = await takePort();
    const err = await lb
      .update({
        listeners: [
          { name: 'main', port, pool: 'web' },
          { name: 'extra', port: 0, pool: 'other' },
          { name: 'blocked', port: taken, pool: 'web' },
        ],
        pools: [
          {
            name: 'web',
            health: { enabled: false },
            backends: [{ id: 'b', host: '127.0.0.1', port: b.port }],
          },
          {
            name: 'other',
            health: { enabled: false },
            backends: [{ id: 'b', host: '127.0.0.1', port: b.port }],
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BalancerError);
    expect((err as BalancerError).code).toBe('IOLAB_BALANCER_LISTEN_FAILED');
    expect((err as Error).message).toMatch(
      new RegExp(`"blocked" cannot bind 127\\.0\\.0\\.1:${taken}: EADDRINUSE`),
    );
    // Exactly the old config: same listener, same pool, backend a (not b), nothing else bound.
    expect(await whoServes(port)).toBe('A');
    const after = lb.stats();
    expect(after.listeners.map((l) => [l.name, l.address?.port])).toEqual([['main', port]]);
    expect(after.pools.map((p) => [p.name, p.backends.map((x) => x.id)])).toEqual([['web', ['a']]]);
    expect(after.pools).toHaveLength(before.pools.length);
  });

  it('a moved listener is bound before the old one closes; a renamed one keeps its socket', async () => {
    const a = await startBackend('A');
    const { lb, port } = await startBalancer({
      listeners: [{ name: 'main', port: 0, pool: 'web' }],
      pools: [
        { name: 'web', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
      ],
    });
    // Renamed, same address: no EADDRINUSE against ourselves, same port keeps answering.
    await lb.update({
      listeners: [{ name: 'renamed', port, pool: 'web' }],
      pools: [
        { name: 'web', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
      ],
    });
    expect(lb.stats().listeners.map((l) => [l.name, l.address?.port])).toEqual([['renamed', port]]);
    expect(await whoServes(port)).toBe('A');
    // Moved to another port: the new one answers, the old one is closed.
    const free = await takePort();
    await new Promise((r) => held.pop()!.close(r));
    const { addresses } = await lb.update({
      listeners: [{ name: 'renamed', port: free, pool: 'web' }],
      pools: [
        { name: 'web', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
      ],
    });
    expect(addresses.map((x) => x.port)).toEqual([free]);
    expect(await whoServes(free)).toBe('A');
    await expect(whoServes(port)).rejects.toThrow(/ECONNREFUSED/);
  });
});

import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createBalancer } from './balancer.js';
import type { BackendStateEvent } from './balancer-api.js';
import type { BalancerConfig } from './config.js';
import { BalancerError } from './errors.js';
import {
  cleanup,
  connectClient,
  countBy,
  readAll,
  readLine,
  startBackend,
  startBalancer,
  whoServes,
} from './test-support.js';

afterEach(cleanup);

async function three() {
  const bs = [await startBackend('a'), await startBackend('b'), await startBackend('c')];
  const config: BalancerConfig = {
    listeners: [{ name: 'main', port: 0, pool: 'p' }],
    pools: [
      {
        name: 'p',
        policy: 'round-robin',
        health: { interval: 50, rise: 2, fall: 2 },
        backends: bs.map((b) => ({ id: b.id, host: '127.0.0.1', port: b.port })),
      },
    ],
  };
  const { lb, port } = await startBalancer(config);
  const states: BackendStateEvent[] = [];
  lb.on('backend-state', (e) => states.push(e));
  return { bs, lb, port, config, states };
}

describe('admin operations', () => {
  it('drain: no new connections, the established one keeps working; enable brings it back', async () => {
    const { lb, port, states } = await three();
    const held = await connectClient(port);
    expect(await readLine(held)).toBe('a');
    lb.drain('p', 'a');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await whoServes(port));
    expect(countBy(seen)).toEqual({ b: 3, c: 3 });
    // The drained backend's existing connection still carries bytes both ways.
    held.end('still-here');
    expect((await readAll(held)).toString()).toBe('still-here');
    expect(states).toMatchObject([{ backend: 'a', from: 'up', to: 'draining', cause: 'admin' }]);
    lb.enable('p', 'a');
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await whoServes(port));
    expect(countBy(after)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('disable stops checks; remove drains then forgets; add and setWeight take effect at once', async () => {
    const { lb, port, bs } = await three();
    lb.disable('p', 'b');
    expect(lb.stats().pools[0]!.backends[1]).toMatchObject({ state: 'disabled', adminState: 'disabled' });
    await bs[1]!.kill(); // a disabled backend is not checked, so it never turns `down`
    await new Promise((r) => setTimeout(r, 200));
    expect(lb.stats().pools[0]!.backends[1]!.state).toBe('disabled');

    const held = await connectClient(port);
    expect(await readLine(held)).toBe('a');
    lb.removeBackend('p', 'a');
    expect(lb.stats().pools[0]!.backends.find((b) => b.id === 'a')!.state).toBe('draining');
    held.destroy();
    await until(() => !lb.stats().pools[0]!.backends.some((b) => b.id === 'a'), 'a forgotten', 2000);

    const d = await startBackend('d');
    lb.addBackend('p', { id: 'd', host: '127.0.0.1', port: d.port, weight: 3 });
    expect(() => lb.addBackend('p', { id: 'd', host: '127.0.0.1', port: d.port })).toThrow(
      expect.objectContaining({ code: 'IOLAB_BALANCER_DUPLICATE_BACKEND' }),
    );
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await whoServes(port));
    // The default round robin honours the new weight at once: d (3) gets three of every four.
    expect(countBy(seen)).toEqual({ c: 1, d: 3 });
    lb.setWeight('p', 'c', 0); // weight 0 = never picked
    const seen2: string[] = [];
    for (let i = 0; i < 3; i++) seen2.push(await whoServes(port));
    expect(seen2).toEqual(['d', 'd', 'd']);
    expect(() => lb.drain('p', 'nope')).toThrow(
      expect.objectContaining({ code: 'IOLAB_BALANCER_UNKNOWN_BACKEND' }),
    );
    expect(() => lb.drain('x', 'c')).toThrow(
      expect.objectContaining({ code: 'IOLAB_BALANCER_UNKNOWN_POOL' }),
    );
  });

  it('update() applies a new config without dropping an established connection', async () => {
    const { lb, port, bs, config } = await three();
    const held = await connectClient(port);
    expect(await readLine(held)).toBe('a');
    const e = await startBackend('e');
    const stateBefore = lb.stats().pools[0]!.backends.find((b) => b.id === 'a')!;
    const res = await lb.update({
      ...config,
      pools: [
        {
          ...config.pools[0]!,
          policy: 'weighted',
          backends: [
            { id: 'a', host: '127.0.0.1', port: bs[0]!.port, weight: 1 },
            { id: 'e', host: '127.0.0.1', port: e.port, weight: 2 },
          ],
        },
      ],
    });
    expect(res.addresses[0]!.port).toBe(port); // port-0 listener kept, not re-bound
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await whoServes(port));
    expect(countBy(seen)).toEqual({ a: 2, e: 4 });
    // The held connection survived the reload, and `a` kept its counters.
    held.end('survived');
    expect((await readAll(held)).toString()).toBe('survived');
    expect(lb.stats().pools[0]!.backends.find((b) => b.id === 'a')!.total).toBeGreaterThan(stateBefore.total);
    await until(() => !lb.stats().pools[0]!.backends.some((b) => b.id === 'b'), 'b dropped', 2000);
    // An invalid update changes nothing.
    await expect(lb.update({ ...config, listeners: [{ port: 0, pool: 'missing' }] })).rejects.toMatchObject({
      code: 'IOLAB_BALANCER_CONFIG_INVALID',
      field: '/listeners/0/pool',
    });
    expect(await whoServes(port)).toMatch(/^[ae]$/);
  });

  it('a throwing event listener becomes a process warning, not a broken connection', async () => {
    const { lb, port } = await three();
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
    process.on('warning', onWarning);
    try {
      lb.on('connection-end', () => {
        throw new Error('log sink broke');
      });
      expect(await whoServes(port)).toBe('a');
      expect(await whoServes(port)).toBe('b');
      await until(() => warnings.length >= 2, 'warnings', 2000);
      expect(warnings[0]).toBe('IOLAB_BALANCER_LISTENER_THREW');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('close(deadline) lets connections finish, then ends the rest', async () => {
    const b = await startBackend('a', 'id', (s) => {
      s.write('a\n');
      s.resume();
    });
    const lb = createBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [{ name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: b.port }] }],
    });
    const { addresses } = await lb.start();
    const ends: string[] = [];
    lb.on('connection-end', (e) => ends.push(e.reason));
    const c = await connectClient(addresses[0]!.port);
    await readLine(c);
    const t0 = Date.now();
    await lb.close(150);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(ends).toEqual(['shutdown']);
    await expect(connectClient(addresses[0]!.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(() => lb.drain('p', 'x')).toThrow(BalancerError);
  });
});

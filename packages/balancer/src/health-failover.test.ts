import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendStateEvent, ConnectErrorEvent } from './balancer-api.js';
import { cleanup, countBy, sleep, startBackend, startBalancer, whoServes } from './test-support.js';

afterEach(cleanup);

const HEALTH = { interval: 50, rise: 2, fall: 3, timeout: 200 };

describe('health: failover and recovery', () => {
  it('a backend killed under load gets no new connections once down, clients see no error, and it returns after rise', async () => {
    const a = await startBackend('a');
    const b = await startBackend('b');
    const c = await startBackend('c');
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          health: HEALTH,
          retries: 3,
          backends: [a, b, c].map((x) => ({ id: x.id, host: '127.0.0.1', port: x.port })),
        },
      ],
    });
    const states: (BackendStateEvent & { at: number })[] = [];
    const connectErrors: (ConnectErrorEvent & { at: number })[] = [];
    // Attempts to b already under way when it is marked down may still fail after that moment (a passive
    // mark-down happens on one failure while other connects are in flight): count them, to tell them apart
    // from attempts started after the mark-down.
    let inFlightToBAtDown = -1;
    lb.on('backend-state', (e) => {
      states.push({ ...e, at: Date.now() });
      if (e.backend === 'b' && e.to === 'down' && inFlightToBAtDown < 0)
        inFlightToBAtDown = lb.stats().pools[0]!.backends.find((x) => x.id === 'b')!.active;
    });
    lb.on('connect-error', (e) => connectErrors.push({ ...e, at: Date.now() }));

    // Load: 4 concurrent clients looping; every connection must get a backend id.
    let running = true;
    const served: string[] = [];
    const failures: unknown[] = [];
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const id = await whoServes(port);
          if (!/^[abc]$/.test(id)) failures.push(`bad reply ${JSON.stringify(id)}`);
          served.push(id);
        } catch (err) {
          failures.push(err);
        }
      }
    });
    await sleep(200);
    await b.kill();
    const killedAt = Date.now();
    await until(() => states.some((e) => e.backend === 'b' && e.to === 'down'), 'b marked down', 3000);
    const downAt = states.find((e) => e.backend === 'b' && e.to === 'down')!.at;
    const servedAtDown = served.length;
    await sleep(300);
    // No attempt went to b after it was marked down: the only failures after that moment are the connects
    // that were already in flight (b is dead, so each of those fails once), and b served nothing.
    expect(connectErrors.filter((e) => e.backend === 'b' && e.at > downAt).length).toBeLessThanOrEqual(
      inFlightToBAtDown,
    );
    const bTotal = lb.stats().pools[0]!.backends.find((x) => x.id === 'b')!.total;
    expect(served.length).toBeGreaterThan(servedAtDown);

    await b.revive();
    await until(() => states.some((e) => e.backend === 'b' && e.to === 'up'), 'b back up', 3000);
    await until(
      () => lb.stats().pools[0]!.backends.find((x) => x.id === 'b')!.total > bTotal,
      'b serving again',
      3000,
    );
    running = false;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    expect(downAt - killedAt).toBeLessThan(2000);
    // Recovery took at least `rise` checks.
    const upEvent = states.find((e) => e.backend === 'b' && e.to === 'up')!;
    expect(upEvent.cause).toBe('check');
    expect(upEvent.detail).toBe('2 good checks');
    // Connect failures against b were all retried elsewhere.
    expect(connectErrors.filter((e) => e.backend === 'b').every((e) => e.willRetry)).toBe(true);
    expect(countBy(served).a).toBeGreaterThan(0);
  });

  it('passive health: consecutive connect failures mark a backend down before any active check', async () => {
    const a = await startBackend('a');
    const dead = await startBackend('dead');
    await dead.kill();
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          policy: 'round-robin',
          health: { interval: 60_000, fall: 2, rise: 2 }, // active checks far away
          backends: [
            { id: 'dead', host: '127.0.0.1', port: dead.port },
            { id: 'a', host: '127.0.0.1', port: a.port },
          ],
        },
      ],
    });
    const states: BackendStateEvent[] = [];
    lb.on('backend-state', (e) => states.push(e));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await whoServes(port));
    expect(seen).toEqual(Array(6).fill('a'));
    expect(states).toMatchObject([{ backend: 'dead', from: 'up', to: 'down', cause: 'passive' }]);
    expect(lb.stats().pools[0]!.backends[0]).toMatchObject({ state: 'down', failures: 2 });
  });

  it('active checks can send bytes and expect a reply pattern', async () => {
    const good = await startBackend('good', 'id', (s) =>
      s.on('data', (d: Buffer) => d.toString() === 'PING\n' && s.end('+PONG\n')),
    );
    const wrong = await startBackend('wrong', 'id', (s) => s.on('data', () => s.end('-ERR\n')));
    const { lb } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          health: { ...HEALTH, send: 'PING\n', expect: /^\+PONG/ },
          backends: [good, wrong].map((x) => ({ id: x.id, host: '127.0.0.1', port: x.port })),
        },
      ],
    });
    await until(() => lb.stats().pools[0]!.backends[1]!.state === 'down', 'wrong reply marks down', 3000);
    const [g, w] = lb.stats().pools[0]!.backends;
    expect(g).toMatchObject({ state: 'up', lastCheck: { ok: true } });
    expect(w!.lastCheck).toMatchObject({ ok: false, detail: 'closed before the expected reply' });
  });

  it('backup backends serve only while every primary is down', async () => {
    const p1 = await startBackend('p1');
    const p2 = await startBackend('p2');
    const bk = await startBackend('bk');
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          health: HEALTH,
          backends: [
            { id: 'bk', host: '127.0.0.1', port: bk.port, backup: true },
            { id: 'p1', host: '127.0.0.1', port: p1.port },
            { id: 'p2', host: '127.0.0.1', port: p2.port },
          ],
        },
      ],
    });
    const before: string[] = [];
    for (let i = 0; i < 6; i++) before.push(await whoServes(port));
    expect(countBy(before)).toEqual({ p1: 3, p2: 3 });
    await p1.kill();
    await until(() => lb.stats().pools[0]!.backends[1]!.state === 'down', 'p1 down', 3000);
    expect(await whoServes(port)).toBe('p2');
    await p2.kill();
    await until(() => lb.stats().pools[0]!.backends[2]!.state === 'down', 'p2 down', 3000);
    expect([await whoServes(port), await whoServes(port)]).toEqual(['bk', 'bk']);
    await p1.revive();
    await until(() => lb.stats().pools[0]!.backends[1]!.state === 'up', 'p1 up', 3000);
    expect([await whoServes(port), await whoServes(port)]).toEqual(['p1', 'p1']);
  });
});

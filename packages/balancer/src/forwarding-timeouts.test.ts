import type { Socket } from 'node:net';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectErrorEvent, ConnectionEndEvent, QueueEvent } from './balancer-api.js';
import type { TimeoutsConfig } from './config.js';
import {
  cleanup,
  connectClient,
  readAll,
  readLine,
  startBackend,
  startBalancer,
  startBlackhole,
  whoServes,
} from './test-support.js';

afterEach(cleanup);

async function single(timeouts: TimeoutsConfig, extra: { maxconn?: number; maxQueue?: number } = {}) {
  // Writes its id, reads everything, never closes its side on its own.
  const backend = await startBackend('a', 'id', (s) => {
    s.write('a\n');
    s.resume();
  });
  const { lb, port } = await startBalancer({
    listeners: [{ port: 0, pool: 'p', timeouts }],
    pools: [
      {
        name: 'p',
        health: { enabled: false },
        maxQueue: extra.maxQueue ?? 10,
        backends: [{ host: '127.0.0.1', port: backend.port, maxconn: extra.maxconn ?? 0 }],
      },
    ],
  });
  const ends: ConnectionEndEvent[] = [];
  const queue: QueueEvent[] = [];
  lb.on('connection-end', (e) => ends.push(e));
  lb.on('queue', (e) => queue.push(e));
  return { lb, port, backend, ends, queue };
}

/** The balancer closed its side (our clients are allowHalfOpen, so 'end' rather than 'close'). */
function closed(s: Socket): Promise<void> {
  s.resume();
  return new Promise((r) => {
    if (s.readableEnded || s.closed) r();
    s.once('end', () => r());
    s.once('close', () => r());
  });
}

describe('timeouts', () => {
  it('idleTimeout closes a connection with no traffic either way', async () => {
    const { port, ends } = await single({ idle: 150 });
    const c = await connectClient(port);
    expect(await readLine(c)).toBe('a');
    const t0 = Date.now();
    await closed(c);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    await until(() => ends.length === 1, 'connection-end', 1000);
    expect(ends[0]).toMatchObject({ closedBy: 'balancer', reason: 'IOLAB_BALANCER_IDLE_TIMEOUT' });
  });

  it('traffic keeps an idle timer from firing', async () => {
    const { port, ends } = await single({ idle: 200 });
    const c = await connectClient(port);
    await readLine(c);
    for (let i = 0; i < 6; i++) {
      c.write('tick');
      await new Promise((r) => setTimeout(r, 80));
    }
    expect(c.closed).toBe(false);
    expect(ends).toEqual([]);
  });

  it('clientFinTimeout bounds a half-closed connection', async () => {
    const { port, ends } = await single({ idle: 10_000, clientFin: 150 });
    const c = await connectClient(port);
    await readLine(c);
    c.end(); // backend ('id' behaviour) keeps its side open: the connection is half-closed
    await closed(c);
    await until(() => ends.length === 1, 'connection-end', 1000);
    expect(ends[0]).toMatchObject({ closedBy: 'client', reason: 'IOLAB_BALANCER_CLIENT_FIN_TIMEOUT' });
    expect(ends[0]!.durationMs).toBeLessThan(2000);
  });

  it('maxconn queues the next client until a slot frees', async () => {
    const { port, queue, lb } = await single({ queue: 5000 }, { maxconn: 1 });
    const first = await connectClient(port);
    expect(await readLine(first)).toBe('a');
    const second = await connectClient(port);
    const secondLine = readLine(second);
    await until(() => queue.some((e) => e.action === 'enqueued'), 'second queued', 1000);
    expect(lb.stats().pools[0]!.queued).toBe(1);
    first.resetAndDestroy(); // a FIN alone would leave it half-open: this backend never closes its side
    expect(await secondLine).toBe('a');
    expect(queue.map((e) => e.action)).toEqual(['enqueued', 'dequeued']);
    expect(lb.stats().pools[0]!.queued).toBe(0);
  });

  it('queueTimeout and maxQueue refuse with their codes', async () => {
    const { port, ends } = await single({ queue: 150 }, { maxconn: 1, maxQueue: 1 });
    const first = await connectClient(port);
    await readLine(first);
    const waiting = await connectClient(port);
    const over = await connectClient(port);
    await Promise.all([closed(waiting), closed(over)]);
    await until(() => ends.length === 2, 'two ends', 1000);
    expect(ends.map((e) => e.reason).sort()).toEqual([
      'IOLAB_BALANCER_QUEUE_FULL',
      'IOLAB_BALANCER_QUEUE_TIMEOUT',
    ]);
    expect(ends.every((e) => e.closedBy === 'balancer' && e.backend === undefined)).toBe(true);
  });
});

describe('connect retries', () => {
  it('a refused backend is retried on another one before any byte is forwarded; the client never sees it', async () => {
    const good = await startBackend('good', 'echo');
    const dead = await startBackend('dead');
    await dead.kill();
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          health: { enabled: false }, // no passive marking either: every client hits the dead one first
          policy: (_ctx, bs) => bs[0],
          backends: [
            { id: 'dead', host: '127.0.0.1', port: dead.port },
            { id: 'good', host: '127.0.0.1', port: good.port },
          ],
        },
      ],
    });
    const errors: ConnectErrorEvent[] = [];
    const ends: ConnectionEndEvent[] = [];
    lb.on('connect-error', (e) => errors.push(e));
    lb.on('connection-end', (e) => ends.push(e));
    for (let i = 0; i < 3; i++) {
      const c = await connectClient(port);
      // The request is written at once: it is held while the first connect fails, then sent to `good`.
      c.end(`req-${i}`);
      expect((await readAll(c)).toString()).toBe(`req-${i}`);
    }
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ backend: 'dead', error: 'ECONNREFUSED', willRetry: true, attempt: 1 });
    await until(() => ends.length === 3, 'ends', 1000);
    expect(ends.every((e) => e.backend === 'good' && e.attempts === 2 && e.bytesIn === 5)).toBe(true);
    expect(lb.stats().pools[0]!.backends[0]).toMatchObject({ failures: 3, total: 0, active: 0 });
  });

  it('a connect that hangs times out after connectTimeout and goes to the next backend', async (ctx) => {
    const hole = await startBlackhole();
    if (hole === undefined) {
      ctx.skip(true, 'python3 not found: needed for a port whose connects hang');
      return;
    }
    const good = await startBackend('good');
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p', timeouts: { connect: 150 } }],
      pools: [
        {
          name: 'p',
          health: { enabled: false },
          policy: 'round-robin',
          backends: [
            { id: 'hole', host: '127.0.0.1', port: hole.port },
            { id: 'good', host: '127.0.0.1', port: good.port },
          ],
        },
      ],
    });
    const errors: ConnectErrorEvent[] = [];
    lb.on('connect-error', (e) => errors.push(e));
    const t0 = Date.now();
    expect(await whoServes(port)).toBe('good');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(errors).toMatchObject([
      { backend: 'hole', code: 'IOLAB_BALANCER_CONNECT_TIMEOUT', willRetry: true },
    ]);
  });

  it('bytes beyond maxHeldBytes during a slow connect pause the client instead of piling up, none lost', async (ctx) => {
    const hole = await startBlackhole();
    if (hole === undefined) {
      ctx.skip(true, 'python3 not found: needed for a port whose connects hang');
      return;
    }
    const echo = await startBackend('echo', 'echo');
    const { port, lb } = await startBalancer({
      maxHeldBytes: 16 * 1024,
      listeners: [{ port: 0, pool: 'p', timeouts: { connect: 200 } }],
      pools: [
        {
          name: 'p',
          health: { enabled: false },
          policy: 'round-robin',
          backends: [
            { id: 'hole', host: '127.0.0.1', port: hole.port },
            { id: 'echo', host: '127.0.0.1', port: echo.port },
          ],
        },
      ],
    });
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const c = await connectClient(port);
    const reply = readAll(c);
    c.end(payload); // all of it at once, while the first connect hangs for 200 ms
    expect((await reply).equals(payload)).toBe(true);
    expect(lb.stats().pools[0]!.backends[1]!.bytesIn).toBe(payload.length);
  });

  it('when every backend fails the client is closed and the end names the code', async () => {
    const dead = await startBackend('dead');
    await dead.kill();
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [{ name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: dead.port }] }],
    });
    const ends: ConnectionEndEvent[] = [];
    lb.on('connection-end', (e) => ends.push(e));
    const c = await connectClient(port);
    expect((await readAll(c)).length).toBe(0);
    await until(() => ends.length === 1, 'end', 1000);
    expect(ends[0]).toMatchObject({
      closedBy: 'balancer',
      reason: 'IOLAB_BALANCER_CONNECT_FAILED',
      error: 'ECONNREFUSED',
    });
  });
});

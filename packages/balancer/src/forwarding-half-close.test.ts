import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionEndEvent } from './balancer-api.js';
import { cleanup, connectClient, readAll, startBackend, startBalancer } from './test-support.js';

afterEach(cleanup);

async function setup(onConnection?: (s: Socket) => void) {
  const backend = await startBackend('echo', 'echo', onConnection);
  const { lb, port } = await startBalancer({
    listeners: [{ port: 0, pool: 'p' }],
    pools: [{ name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backend.port }] }],
  });
  const ends: ConnectionEndEvent[] = [];
  lb.on('connection-end', (e) => ends.push(e));
  return { lb, port, backend, ends };
}

describe('forwarding: half-close and errors', () => {
  it('a client that sends FIN right after its request still gets the whole (slow, large) reply', async () => {
    const reply = Buffer.alloc(4 * 1024 * 1024, 7);
    const { port, ends } = await setup((s) => {
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString()));
      s.on('end', () => {
        // Reply only after the client's FIN arrived, in pieces, with pauses: the balancer must keep our
        // direction open while the client's is closed.
        expect(got).toBe('REQUEST');
        let off = 0;
        const step = () => {
          if (off >= reply.length) {
            s.end();
            return;
          }
          s.write(reply.subarray(off, off + 512 * 1024));
          off += 512 * 1024;
          setTimeout(step, 5);
        };
        step();
      });
    });
    const c = await connectClient(port);
    c.end('REQUEST');
    const got = await readAll(c);
    expect(got.length).toBe(reply.length);
    expect(createHash('sha1').update(got).digest('hex')).toBe(createHash('sha1').update(reply).digest('hex'));
    await until(() => ends.length === 1, 'connection-end', 2000);
    expect(ends[0]).toMatchObject({ closedBy: 'client', reason: 'end', bytesIn: 7, bytesOut: reply.length });
  });

  it('a backend FIN is passed on while the client keeps sending (other direction)', async () => {
    const received: Buffer[] = [];
    const { port, ends } = await setup((s) => {
      s.end('BYE\n'); // backend closes its side first, keeps reading
      s.on('data', (c: Buffer) => received.push(c));
    });
    const c = await connectClient(port);
    const ended = new Promise<string>((resolve) => {
      let txt = '';
      c.on('data', (d: Buffer) => (txt += d.toString()));
      c.on('end', () => resolve(txt));
    });
    expect(await ended).toBe('BYE\n');
    // Our write side is still open through the balancer.
    c.write('late-1');
    c.end('late-2');
    await until(
      () => Buffer.concat(received).toString() === 'late-1late-2',
      'late bytes at the backend',
      2000,
    );
    await until(() => ends.length === 1, 'connection-end', 2000);
    expect(ends[0]).toMatchObject({ closedBy: 'backend', reason: 'end', bytesOut: 4, bytesIn: 12 });
  });

  it('a client reset is handled: the backend connection is torn down, nothing crashes, next client works', async () => {
    const { port, backend, ends, lb } = await setup();
    const c = await connectClient(port);
    c.write('hello');
    await until(() => backend.sockets.size === 1, 'backend connection', 2000);
    c.resetAndDestroy();
    await until(() => backend.sockets.size === 0, 'backend side closed', 2000);
    await until(() => ends.length === 1, 'connection-end', 2000);
    expect(ends[0]).toMatchObject({ closedBy: 'client', reason: 'reset', error: 'ECONNRESET' });
    const c2 = await connectClient(port);
    c2.end('again');
    expect((await readAll(c2)).toString()).toBe('again');
    expect(lb.stats().pools[0]!.backends[0]!.active).toBe(0);
  });

  it('a backend reset reaches the client as a reset', async () => {
    const { port, ends } = await setup((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    const c = await connectClient(port);
    const err = new Promise<NodeJS.ErrnoException>((resolve) => c.once('error', resolve));
    c.write('x');
    expect((await err).code).toBe('ECONNRESET');
    await until(() => ends.length === 1, 'connection-end', 2000);
    expect(ends[0]).toMatchObject({ closedBy: 'backend', reason: 'reset' });
  });

  it('bytes flow both ways concurrently and are counted per backend', async () => {
    const { port, lb } = await setup();
    const payload = Buffer.alloc(2 * 1024 * 1024, 3);
    const c = await connectClient(port);
    const done = readAll(c);
    c.end(payload);
    expect((await done).equals(payload)).toBe(true);
    await until(() => lb.stats().pools[0]!.backends[0]!.active === 0, 'release', 2000);
    const b = lb.stats().pools[0]!.backends[0]!;
    expect(b).toMatchObject({ bytesIn: payload.length, bytesOut: payload.length, total: 1 });
  });
});

import type { RunningServer } from '@iolab/server-core';
import { Cleanup, get, rawConnect, until } from '@iolab/testkit';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeHttp } from './node-http-server.js';
import { startLoop } from './start-loop.js';

// Newest first: a test's sockets are destroyed before its servers are closed.
const cleanup = new Cleanup();
afterEach(cleanup.run);

async function track(server: Promise<RunningServer>): Promise<RunningServer> {
  const s = await server;
  return cleanup.add(s, () => s.close(1000));
}

const connect = (port: number) => rawConnect(port, cleanup);

describe('loop: one thread, one event loop', () => {
  it('a /sleep is a timer: other connections are answered meanwhile, on one thread', async () => {
    const server = await track(startLoop({ protocol: 'http' }));
    const sleeper = await connect(server.address.port);
    const other = await connect(server.address.port);
    sleeper.send(get('/sleep?ms=1000'));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    other.send(get('/plaintext'));
    await until(() => other.text().includes('Hello, World!'), 'the other answer');
    expect(Date.now() - t0).toBeLessThan(800);
    expect(sleeper.text()).toBe('');
    expect(server.stats()).toMatchObject({ threadsAlive: 1, threadsPeak: 1, queueLength: 0 });
    await until(() => sleeper.text().includes(' 200 '), 'the sleeper');
  });

  it('a /cpu runs inline: it holds up every other connection until it is done', async () => {
    const server = await track(startLoop({ protocol: 'http' }));
    const cruncher = await connect(server.address.port);
    const other = await connect(server.address.port);
    // Calibrate: how long does this cpu op take alone?
    cruncher.send(get('/cpu?n=50000'));
    await until(() => cruncher.text().includes(' 200 '), 'calibration');
    let otherAt = 0;
    let cpuAt = 0;
    cruncher.socket.on('data', () => {
      cpuAt ||= Date.now();
    });
    other.socket.on('data', () => {
      otherAt ||= Date.now();
    });
    cruncher.send(get('/cpu?n=50000'));
    await new Promise((r) => setImmediate(r));
    other.send(get('/plaintext'));
    await until(() => otherAt > 0 && cpuAt > 0, 'both answers');
    // The plaintext answer cannot overtake the cpu work that blocked the loop.
    expect(otherAt).toBeGreaterThanOrEqual(cpuAt);
  });

  it('runs N loops under node:cluster on one port and aggregates their stats', async () => {
    const server = await track(startLoop({ protocol: 'http', workers: 2 }));
    expect(server.address.port).toBeGreaterThan(0);
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await request(`http://127.0.0.1:${server.address.port}/plaintext`, { reset: true });
        return res.body.text();
      }),
    );
    expect(new Set(results)).toEqual(new Set(['Hello, World!']));
    await until(() => server.stats().requests === 20, 'stats to arrive from workers');
    expect(server.stats().threadsAlive).toBe(2);
  });
});

describe('node-http reference', () => {
  it('serves the same routes with the same bodies as the loop', async () => {
    const loop = await track(startLoop({ protocol: 'http' }));
    const ref = await track(startNodeHttp({}));
    const cases: [string, string][] = [
      ['GET', '/plaintext'],
      ['GET', '/json'],
      ['GET', '/cpu?n=10'],
      ['GET', '/sleep?ms=1'],
      ['GET', '/nope'],
      ['POST', '/plaintext'],
      ['GET', '/cpu?n=x'],
    ];
    for (const [method, path] of cases) {
      const [a, b] = await Promise.all(
        [loop, ref].map(async (s) => {
          const res = await request(`http://127.0.0.1:${s.address.port}${path}`, { method: method as 'GET' });
          return { status: res.statusCode, type: res.headers['content-type'], body: await res.body.text() };
        }),
      );
      expect(b, `${method} ${path}`).toEqual(a);
    }
    const echo = await request(`http://127.0.0.1:${ref.address.port}/echo`, { method: 'POST', body: 'abc' });
    expect(await echo.body.text()).toBe('abc');
    expect(ref.stats().requests).toBeGreaterThan(0);
  });
});

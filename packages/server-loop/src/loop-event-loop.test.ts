import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { RunningServer } from '@iolab/server-core';
import { until } from '@iolab/testkit';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeHttp } from './node-http-server.js';
import { startLoop } from './start-loop.js';

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(1000)));
});

async function track(server: Promise<RunningServer>): Promise<RunningServer> {
  const s = await server;
  servers.push(s);
  return s;
}

async function connect(port: number): Promise<Socket & { text: () => string }> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  sockets.push(socket);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    text += d;
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return Object.assign(socket, { text: () => text });
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

describe('loop: one thread, one event loop', () => {
  it('a /sleep is a timer: other connections are answered meanwhile, on one thread', async () => {
    const server = await track(startLoop({ protocol: 'http' }));
    const sleeper = await connect(server.address.port);
    const other = await connect(server.address.port);
    sleeper.write(get('/sleep?ms=1000'));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    other.write(get('/plaintext'));
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
    cruncher.write(get('/cpu?n=50000'));
    await until(() => cruncher.text().includes(' 200 '), 'calibration');
    let otherAt = 0;
    let cpuAt = 0;
    cruncher.on('data', () => {
      cpuAt ||= Date.now();
    });
    other.on('data', () => {
      otherAt ||= Date.now();
    });
    cruncher.write(get('/cpu?n=50000'));
    await new Promise((r) => setImmediate(r));
    other.write(get('/plaintext'));
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

import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { RunningServer } from '@iolab/server-core';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { startBio } from './bio-server.js';

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(1000)));
});

async function start(options: Parameters<typeof startBio>[0]): Promise<RunningServer> {
  const server = await startBio(options);
  servers.push(server);
  return server;
}

/** A raw keep-alive HTTP connection; `text()` is everything received so far. */
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
const responses = (text: string): number => text.split('HTTP/1.1 ').length - 1;

describe('bio: a thread per connection', () => {
  it('starts one thread per connection and ends it with the connection', async () => {
    const server = await start({ protocol: 'http' });
    const conns = await Promise.all([1, 2, 3].map(() => connect(server.address.port)));
    for (const c of conns) c.write(get('/plaintext'));
    await until(() => conns.every((c) => c.text().includes('Hello, World!')), 'three answers');
    expect(server.stats()).toMatchObject({ threadsAlive: 3, threadsPeak: 3, connections: 3, requests: 3 });
    for (const c of conns) c.end();
    await until(() => server.stats().threadsAlive === 0, 'threads to exit');
    expect(server.stats().threadsPeak).toBe(3);
  });

  it('a /sleep holds its own thread only: another connection is answered meanwhile', async () => {
    const server = await start({ protocol: 'http' });
    const sleeper = await connect(server.address.port);
    const other = await connect(server.address.port);
    sleeper.write(get('/sleep?ms=1500'));
    await until(() => server.stats().threadsAlive === 2, 'both threads');
    const t0 = Date.now();
    other.write(get('/plaintext'));
    await until(() => other.text().includes('Hello, World!'), 'the other answer');
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(sleeper.text()).toBe('');
    await until(() => responses(sleeper.text()) === 1, 'the sleeper answer');
  });

  it('refuses beyond maxThreads with 503 and close, counts it, and keeps serving', async () => {
    const server = await start({ protocol: 'http', maxThreads: 2 });
    const a = await connect(server.address.port);
    const b = await connect(server.address.port);
    a.write(get('/plaintext'));
    b.write(get('/plaintext'));
    await until(() => responses(a.text()) === 1 && responses(b.text()) === 1, 'two answers');
    const refused = await connect(server.address.port);
    await once(refused, 'close');
    expect(refused.text()).toMatch(/^HTTP\/1.1 503 /);
    expect(server.stats().refused).toBe(1);
    a.end();
    await until(() => server.stats().threadsAlive === 1, 'a thread to free');
    const c = await connect(server.address.port);
    c.write(get('/plaintext'));
    await until(() => c.text().includes('Hello, World!'), 'a served after refusal');
  });

  it('refuses a framed connection beyond the cap by closing it', async () => {
    const server = await start({ protocol: 'echo-line', maxThreads: 1 });
    const a = await connect(server.address.port);
    a.write('ECHO hi\n');
    await until(() => a.text() === 'OK hi\n', 'echo');
    const refused = await connect(server.address.port);
    await once(refused, 'close');
    expect(refused.text()).toBe('');
    expect(server.stats().refused).toBe(1);
  });

  it('close() lets an in-flight request finish, then ends threads and connections', async () => {
    const server = await start({ protocol: 'http' });
    const busy = await connect(server.address.port);
    const idle = await connect(server.address.port);
    busy.write(get('/sleep?ms=400'));
    await until(() => server.stats().threadsAlive === 2, 'threads');
    await server.close(5000);
    expect(responses(busy.text())).toBe(1);
    expect(busy.text()).toMatch(/^HTTP\/1.1 200 /);
    expect(idle.text()).toBe('');
    expect(server.stats().threadsAlive).toBe(0);
  });
});

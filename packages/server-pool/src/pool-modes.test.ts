import type { RunningServer } from '@iolab/server-core';
import { Cleanup, get, rawConnect, responseWithBody, statuses, until, untilValue } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { startPool } from './pool-server.js';

// Newest first: a test's sockets are destroyed before its server is closed.
const cleanup = new Cleanup();
afterEach(cleanup.run);

async function start(options: Parameters<typeof startPool>[0]): Promise<RunningServer> {
  const server = await startPool(options);
  return cleanup.add(server, () => server.close(1000));
}

const connect = (port: number) => rawConnect(port, cleanup);

describe('pool --mode connection', () => {
  it('a connection holds a thread until it closes; the next waits in the queue; beyond the queue, 503', async () => {
    const server = await start({ protocol: 'http', mode: 'connection', threads: 1, queue: 1 });
    expect(server.stats().threadsAlive).toBe(1);
    const holder = await connect(server.address.port);
    holder.send(get('/plaintext'));
    await until(() => statuses(holder.text()).length === 1, 'holder answer');
    const waiter = await connect(server.address.port);
    waiter.send(get('/plaintext'));
    await until(() => server.stats().queueLength === 1, 'the waiter to queue');
    const refused = await connect(server.address.port);
    await refused.closed;
    expect(statuses(refused.text())).toEqual([503]);
    expect(server.stats().refused).toBe(1);
    // Still nothing for the waiter: the only thread is held by an idle keep-alive connection.
    await new Promise((r) => setTimeout(r, 200));
    expect(waiter.text()).toBe('');
    holder.socket.end();
    await until(() => statuses(waiter.text()).length === 1, 'the waiter to be served once the thread frees');
    expect(statuses(waiter.text())).toEqual([200]);
    expect(server.stats().queueLength).toBe(0);
  });

  it('sets piscina up as a fixed pool of the requested size', async () => {
    const server = await start({ protocol: 'echo-line', mode: 'connection', threads: 3, queue: 10 });
    expect(server.stats()).toMatchObject({ threadsAlive: 3, threadsPeak: 3, queueLength: 0 });
    const c = await connect(server.address.port);
    c.send('ECHO x\nSLEEP 1\n');
    await until(() => c.text() === 'OK x\nOK\n', 'framed answers');
  });
});

describe('pool --mode request', () => {
  it('runs operations in the pool, keeps connections on the loop, and answers 503 when the queue is full', async () => {
    const server = await start({ protocol: 'http', mode: 'request', threads: 1, queue: 1 });
    const conns = await Promise.all([0, 1, 2].map(() => connect(server.address.port)));
    for (const c of conns) c.send(get('/sleep?ms=300'));
    await until(() => conns.every((c) => statuses(c.text()).length === 1), 'three answers');
    const all = conns.flatMap((c) => statuses(c.text())).sort((x, y) => x - y);
    expect(all).toEqual([200, 200, 503]);
    expect(server.stats().refused).toBe(1);
    // The connection that got 503 is still open and served.
    const unlucky = conns.find((c) => c.text().includes(' 503 '))!;
    unlucky.send(get('/plaintext'));
    await until(() => unlucky.text().includes('Hello, World!'), 'served after 503');
  });

  it('serves many keep-alive connections with few threads', async () => {
    const server = await start({ protocol: 'http', mode: 'request', threads: 2, queue: 100 });
    const conns = await Promise.all(Array.from({ length: 20 }, () => connect(server.address.port)));
    for (const c of conns) c.send(get('/plaintext') + get('/json'));
    await until(() => conns.every((c) => statuses(c.text()).length === 2), 'forty answers');
    expect(server.stats()).toMatchObject({ connections: 20, threadsAlive: 2, requests: 40 });
  });

  it('echoes a 512 KiB body through the pool intact', async () => {
    const server = await start({ protocol: 'http', mode: 'request', threads: 1, queue: 10 });
    const c = await connect(server.address.port);
    const body = Buffer.alloc(512 * 1024, 'abcdefgh');
    c.send(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.send(body);
    const echo = await untilValue(() => responseWithBody(c.text(), body.length), 'the echo');
    expect(statuses(echo.head)).toEqual([200]);
    expect(echo.body).toBe(body.toString('latin1'));
  });

  // Issue 9 regression: an empty body was the parser's shared empty buffer, transferred to the pool thread
  // (detached), and the next body on the connection crashed the process in the parser.
  it.each([
    ['Content-Length: 0', 'Content-Length: 0\r\n\r\n'],
    ['an empty chunked body', 'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ])('serves a body after %s on the same connection, and keeps serving others', async (_, first) => {
    const server = await start({ protocol: 'http', mode: 'request', threads: 1, queue: 10 });
    const c = await connect(server.address.port);
    c.send(`POST /echo HTTP/1.1\r\nHost: t\r\n${first}`);
    await until(() => statuses(c.text()).length === 1, 'the empty echo');
    c.send('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello');
    c.send('POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    await until(() => statuses(c.text()).length === 3, 'two more echoes');
    expect(statuses(c.text())).toEqual([200, 200, 200]);
    expect(c.text()).toMatch(/\r\n\r\nhelloHTTP\/1\.1 200 [\s\S]*\r\n\r\nabc$/);
    // A second connection reaches the same parser code path with a fresh session: still fine.
    const other = await connect(server.address.port);
    other.send(
      `POST /echo HTTP/1.1\r\nHost: t\r\n${first}POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok`,
    );
    await until(() => statuses(other.text()).length === 2, 'the other connection');
    expect(other.text().endsWith('ok')).toBe(true);
    expect(server.stats().errors).toBe(0);
  });
});

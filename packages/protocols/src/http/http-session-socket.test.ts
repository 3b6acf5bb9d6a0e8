// The session's bytes on a real loopback socket, read by real clients: undici (llhttp) and raw net.

import { Readable } from 'node:stream';
import { Client } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ascii, parseResponses, text } from '../test-session-driver.js';
import { rawExchange, startTestServer, type TestServer } from '../test-tcp-server.js';

let server: TestServer;
let client: Client | undefined;

beforeEach(async () => {
  server = await startTestServer('http', { maxBodyBytes: 2 * 1024 * 1024 });
});

afterEach(async () => {
  // destroy, not close: a failed test must not wait for requests still in flight.
  await client?.destroy();
  client = undefined;
  await server.close();
});

describe('HTTP session on a real socket', () => {
  it('serves undici every route over one keep-alive connection, pipelined', async () => {
    client = new Client(`http://127.0.0.1:${server.port}`, { pipelining: 8 });
    const c = client;
    const big = Buffer.alloc(1024 * 1024 + 3, 0x61);
    // Each body is read as soon as its headers arrive: an unread body would stall the pipeline behind it.
    const call = async (options: Parameters<Client['request']>[0]) => {
      const r = await c.request(options);
      return { status: r.statusCode, headers: r.headers, body: Buffer.from(await r.body.arrayBuffer()) };
    };
    const [plain, json, echo, chunked, cpu, sleep, missing] = await Promise.all([
      call({ path: '/plaintext', method: 'GET' }),
      call({ path: '/json', method: 'GET' }),
      call({ path: '/echo', method: 'POST', body: big }),
      call({
        path: '/echo',
        method: 'POST',
        body: Readable.from([Buffer.from('chunk-'), Buffer.from('ed')]),
      }),
      call({ path: '/cpu?n=10', method: 'GET' }),
      call({ path: '/sleep?ms=20', method: 'GET' }),
      call({ path: '/missing', method: 'GET' }),
    ]);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/plain');
    expect(plain.body.toString()).toBe('Hello, World!');
    expect(JSON.parse(json.body.toString())).toEqual({ message: 'Hello, World!' });
    expect(echo.body.equals(big)).toBe(true);
    expect(chunked.body.toString()).toBe('chunk-ed');
    expect(cpu.body.toString()).toMatch(/^[0-9a-f]{64}$/);
    expect(sleep.status).toBe(200);
    expect(sleep.body).toHaveLength(0);
    expect(missing.status).toBe(404);
    expect(server.connections()).toBe(1);
  });

  it('answers a 16-deep pipeline written at once, in order, then closes on Connection: close', async () => {
    const requests = Array.from({ length: 15 }, (_, i) =>
      i % 3 === 0
        ? `GET /sleep?ms=${15 - i} HTTP/1.1\r\nHost: a\r\n\r\n`
        : `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`,
    );
    requests.push('GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const bytes = await rawExchange(server.port, [ascii(requests.join(''))]);
    const responses = parseResponses(bytes);
    expect(responses).toHaveLength(16);
    responses.slice(0, 15).forEach((r, i) => {
      expect(text(r.body)).toBe(i % 3 === 0 ? '' : String(i));
    });
    expect(text(responses[15]!.body)).toBe('Hello, World!');
  });

  it('a request sent one byte at a time is served', async () => {
    const request = ascii(
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    );
    const chunks = Array.from({ length: request.length }, (_, i) => request.subarray(i, i + 1));
    const responses = parseResponses(await rawExchange(server.port, chunks));
    expect(responses.map((r) => text(r.body))).toEqual(['abc']);
  });

  it('malformed input → 400 and the server closes the socket; oversized headers → 431', async () => {
    const bad = parseResponses(await rawExchange(server.port, [ascii('GET / HTTP/1.1\r\nHost : a\r\n\r\n')]));
    expect(bad.map((r) => r.status)).toEqual([400]);
    const big = parseResponses(
      await rawExchange(server.port, [
        ascii(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`),
      ]),
    );
    expect(big.map((r) => r.status)).toEqual([431]);
  });

  it('a client FIN after pipelined requests still gets every reply, then close', async () => {
    const bytes = await rawExchange(
      server.port,
      [ascii('GET /sleep?ms=30 HTTP/1.1\r\nHost: a\r\n\r\nGET /json HTTP/1.1\r\nHost: a\r\n\r\n')],
      true,
    );
    expect(parseResponses(bytes).map((r) => r.status)).toEqual([200, 200]);
  });
});

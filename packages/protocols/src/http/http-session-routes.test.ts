import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CPU_ROUNDS, DEFAULT_MAX_SLEEP_MS } from '../limits.js';
import { ascii, drive, parseResponses, text } from '../test-session-driver.js';
import { HttpServerSession } from './server-session.js';

function one(request: string, options: { head?: boolean } = {}) {
  const result = drive(new HttpServerSession(), [ascii(request)]);
  const responses = parseResponses(result.bytes, { headRequests: options.head ?? false });
  expect(responses).toHaveLength(1);
  return { ...responses[0]!, closed: result.closed, work: result.work };
}

describe('HTTP routes', () => {
  it('GET /plaintext answers Hello, World! as text/plain and keeps the connection', () => {
    const r = one('GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.headers['content-length']).toBe('13');
    expect(r.headers.connection).toBeUndefined();
    expect(text(r.body)).toBe('Hello, World!');
    expect(r.closed).toBe(false);
    expect(r.work.map((w) => w.op.kind)).toEqual(['plaintext']);
  });

  it('GET /json answers the TechEmpower JSON document', () => {
    const r = one('GET /json HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(text(r.body))).toEqual({ message: 'Hello, World!' });
  });

  it('GET /cpu?n= answers the hex SHA-256 chain digest', () => {
    let d: Buffer = Buffer.alloc(32);
    for (let i = 0; i < 3; i++) d = createHash('sha256').update(d).digest();
    const r = one('GET /cpu?n=3 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(200);
    expect(text(r.body)).toBe(d.toString('hex'));
    expect(r.work[0]!.op).toEqual({ kind: 'cpu', rounds: 3 });
    // First round is the well-known SHA-256 of 32 zero bytes.
    expect(text(one('GET /cpu?n=1 HTTP/1.1\r\nHost: x\r\n\r\n').body)).toBe(
      '66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925',
    );
  });

  it('GET /sleep?ms= becomes a sleep op and an empty 200', () => {
    const r = one('GET /sleep?ms=25 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(0);
    expect(r.work[0]!.op).toEqual({ kind: 'sleep', ms: 25 });
  });

  it('POST /echo sends the body back, Content-Length and chunked alike', () => {
    const cl = one('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    expect(text(cl.body)).toBe('hello');
    expect(cl.headers['content-type']).toBe('application/octet-stream');
    const chunked = one(
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    expect(text(chunked.body)).toBe('abcde');
  });

  it('unknown path → 404, wrong method → 405 with Allow, connection kept', () => {
    const nf = one('GET /nope HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(nf.status).toBe(404);
    expect(nf.closed).toBe(false);
    const na = one('DELETE /plaintext HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(na.status).toBe(405);
    expect(na.headers.allow).toBe('GET, HEAD');
    expect(one('GET /echo HTTP/1.1\r\nHost: x\r\n\r\n').headers.allow).toBe('POST');
  });

  it('query values outside their caps → 400 and the connection stays open', () => {
    for (const target of [
      `/cpu?n=${DEFAULT_MAX_CPU_ROUNDS + 1}`,
      '/cpu?n=abc',
      '/cpu',
      '/cpu?n=-1',
      `/sleep?ms=${DEFAULT_MAX_SLEEP_MS + 1}`,
      '/sleep?ms=1.5',
    ]) {
      const r = one(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(r.status, target).toBe(400);
      expect(r.closed, target).toBe(false);
      expect(r.work, target).toHaveLength(0);
    }
    // At the cap is accepted (not run here: a million rounds is a second of CPU).
    const atCap = new HttpServerSession().receive(
      ascii(`GET /cpu?x=1&n=${DEFAULT_MAX_CPU_ROUNDS} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    expect(atCap.work[0]!.op).toEqual({
      kind: 'cpu',
      rounds: DEFAULT_MAX_CPU_ROUNDS,
    });
  });

  it('a connection that repeats and varies its requests gets each one routed on its own', () => {
    // The session remembers the last routing decision (same method and target): a changed method,
    // target or query must route afresh, and every echo must answer its own body.
    const requests = [
      'GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
      'GET /plaintexts HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /cpu?n=1 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /cpu?n=1 HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /cpu?n=${DEFAULT_MAX_CPU_ROUNDS + 1} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc',
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy',
      'GET /json HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const chunking of ['one read', 'one read each']) {
      const input = chunking === 'one read' ? [ascii(requests.join(''))] : requests.map(ascii);
      const result = drive(new HttpServerSession(), input);
      const responses = parseResponses(result.bytes);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 405, 404, 200, 200, 400, 200, 200, 200]);
      expect(responses.map((r) => text(r.body)).filter((_, i) => i === 0 || i >= 7)).toEqual([
        'Hello, World!',
        'abc',
        'xy',
        '{"message":"Hello, World!"}',
      ]);
    }
  });

  it('absolute-form targets route by their path', () => {
    expect(text(one('GET http://example.test/plaintext HTTP/1.1\r\nHost: example.test\r\n\r\n').body)).toBe(
      'Hello, World!',
    );
  });

  it('HEAD gets the GET headers and no body', () => {
    const r = one('HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n', { head: true });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('13');
    expect(r.body).toHaveLength(0);
  });

  it('HEAD of a 404/405 also has no body', () => {
    const r = one('HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n', { head: true });
    expect(r.status).toBe(404);
    expect(r.headers['content-length']).toBe('9');
    const session = new HttpServerSession();
    const bytes = session.receive(
      ascii('HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    // If the 404 body leaked, the next response would not start right after the blank line.
    expect(text(bytes.send[0]!)).toMatch(/\r\n\r\n$/);
  });

  it('Expect: 100-continue gets an interim 100 before the body is sent, then the reply', () => {
    const session = new HttpServerSession();
    const head = session.receive(
      ascii('POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n'),
    );
    expect(text(head.send[0]!)).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const body = drive(session, [ascii('hi')]);
    expect(text(parseResponses(body.bytes)[0]!.body)).toBe('hi');
    // With the body already there, no 100 is needed; none is sent.
    const whole = drive(new HttpServerSession(), [
      ascii('POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi'),
    ]);
    expect(text(whole.bytes)).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('Connection: close → response says close and the session closes', () => {
    const r = one('GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.headers.connection).toBe('close');
    expect(r.closed).toBe(true);
  });

  it('HTTP/1.0 closes by default and keeps alive when asked', () => {
    const plain = one('GET /plaintext HTTP/1.0\r\n\r\n');
    expect(plain.headers.connection).toBe('close');
    expect(plain.closed).toBe(true);
    const ka = one('GET /plaintext HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n');
    expect(ka.headers.connection).toBe('keep-alive');
    expect(ka.closed).toBe(false);
  });
});

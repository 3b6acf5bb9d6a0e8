import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../input-buffer.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
  resolveLimits,
  type SessionLimits,
} from '../limits.js';
import { ascii, bytewise, drive, parseResponses, text } from '../test-session-driver.js';
import { HttpRequestParser, type ParseStep } from './request-parser.js';
import { HttpServerSession } from './server-session.js';

function statusOf(request: string | Uint8Array, limits?: SessionLimits, oneByteAtATime = false) {
  const bytes = typeof request === 'string' ? ascii(request) : request;
  const result = drive(new HttpServerSession(limits), oneByteAtATime ? bytewise(bytes) : [bytes]);
  const responses = parseResponses(result.bytes);
  return { statuses: responses.map((r) => r.status), closed: result.closed, last: responses.at(-1) };
}

/** The first error the parser reports for `request`, fed whole. */
function parseError(request: string, limits?: SessionLimits) {
  const parser = new HttpRequestParser(resolveLimits(limits));
  const input = new InputBuffer();
  input.append(ascii(request));
  let step: ParseStep;
  let guard = 0;
  do step = parser.next(input);
  while ((step.kind === 'request' || step.kind === 'continue') && guard++ < 100);
  return step.kind === 'error' ? step.error : undefined;
}

const ok = 'GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n';

describe('HTTP limits', () => {
  it('request line: at the cap is served, one byte over → 414 and close', () => {
    const line = (n: number) =>
      `GET /plaintext?${'p'.repeat(n - 'GET /plaintext? HTTP/1.1'.length)} HTTP/1.1`;
    expect(line(100)).toHaveLength(100);
    expect(statusOf(`${line(100)}\r\nHost: a\r\n\r\n`, { maxRequestLineBytes: 100 }).statuses).toEqual([200]);
    for (const byByte of [false, true]) {
      const over = statusOf(`${line(101)}\r\nHost: a\r\n\r\n`, { maxRequestLineBytes: 100 }, byByte);
      expect(over.statuses).toEqual([414]);
      expect(over.closed).toBe(true);
      expect(over.last!.headers.connection).toBe('close');
    }
    const err = parseError(`GET /${'a'.repeat(DEFAULT_MAX_REQUEST_LINE_BYTES)} HTTP/1.1\r\n\r\n`);
    expect(err?.code).toBe('IOLAB_HTTP_URI_TOO_LONG');
    expect(err?.offset).toBe(DEFAULT_MAX_REQUEST_LINE_BYTES);
  });

  it('a request line that never ends is refused once over the cap, without waiting for LF', () => {
    const session = new HttpServerSession({ maxRequestLineBytes: 64 });
    const out = session.receive(ascii(`GET /${'a'.repeat(200)}`));
    expect(out.close).toBe(true);
    expect(parseResponses(out.send[0]!)[0]!.status).toBe(414);
  });

  it('header bytes: at the cap is served, over → 431 and close', () => {
    // Field lines cost their bytes + CRLF: "Host: a\r\n" is 9, the padding line fills the rest.
    const cap = 200;
    const pad = (n: number) => `X-Pad: ${'v'.repeat(n - 'X-Pad: '.length - 2)}\r\n`;
    const at = `GET /plaintext HTTP/1.1\r\nHost: a\r\n${pad(cap - 9)}\r\n`;
    expect(statusOf(at, { maxHeaderBytes: cap }).statuses).toEqual([200]);
    const over = `GET /plaintext HTTP/1.1\r\nHost: a\r\n${pad(cap - 8)}\r\n`;
    for (const byByte of [false, true]) {
      const r = statusOf(over, { maxHeaderBytes: cap }, byByte);
      expect(r.statuses).toEqual([431]);
      expect(r.closed).toBe(true);
    }
    const err = parseError(`GET / HTTP/1.1\r\nX: ${'a'.repeat(DEFAULT_MAX_HEADER_BYTES)}\r\n\r\n`);
    expect(err?.code).toBe('IOLAB_HTTP_HEADERS_TOO_LARGE');
  });

  it('header count: at the cap is served, one more → 431 and close', () => {
    const fields = (n: number) => Array.from({ length: n - 1 }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(
      statusOf(`GET /json HTTP/1.1\r\nHost: a\r\n${fields(5)}\r\n`, { maxHeaderCount: 5 }).statuses,
    ).toEqual([200]);
    const r = statusOf(`GET /json HTTP/1.1\r\nHost: a\r\n${fields(6)}\r\n`, { maxHeaderCount: 5 });
    expect(r.statuses).toEqual([431]);
    expect(r.closed).toBe(true);
    expect(parseError(`GET / HTTP/1.1\r\n${fields(DEFAULT_MAX_HEADER_COUNT + 2)}\r\n`)?.code).toBe(
      'IOLAB_HTTP_HEADERS_TOO_LARGE',
    );
  });

  it('trailers count against the header limits', () => {
    const req = `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT1: a\r\nT2: b\r\n\r\n`;
    expect(statusOf(req, { maxHeaderCount: 4 }).statuses).toEqual([200]);
    expect(statusOf(req, { maxHeaderCount: 3 }).statuses).toEqual([431]);
  });

  it('Content-Length body: at the cap is echoed, over → 413 before any body byte is read', () => {
    const at = `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n${'b'.repeat(10)}`;
    const served = statusOf(at, { maxBodyBytes: 10 });
    expect(served.statuses).toEqual([200]);
    expect(text(served.last!.body)).toBe('b'.repeat(10));
    const session = new HttpServerSession({ maxBodyBytes: 10 });
    const out = session.receive(ascii('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n'));
    expect(parseResponses(out.send[0]!)[0]!.status).toBe(413);
    expect(out.close).toBe(true);
    expect(
      parseError(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${DEFAULT_MAX_BODY_BYTES + 1}\r\n\r\n`)?.code,
    ).toBe('IOLAB_HTTP_BODY_TOO_LARGE');
    // A length no integer type holds is still just "too large", not a crash or a 400.
    expect(
      parseError(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${'9'.repeat(40)}\r\n\r\n`)?.status,
    ).toBe(413);
  });

  it('chunked body: over the cap across chunks → 413 and close', () => {
    const chunks = (n: number) =>
      `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${'4\r\nabcd\r\n'.repeat(n)}0\r\n\r\n`;
    expect(statusOf(chunks(3), { maxBodyBytes: 12 }).statuses).toEqual([200]);
    const r = statusOf(chunks(4), { maxBodyBytes: 12 });
    expect(r.statuses).toEqual([413]);
    expect(r.closed).toBe(true);
    expect(
      parseError(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${'f'.repeat(30)}\r\n`)
        ?.status,
    ).toBe(413);
  });

  it('valid requests before a limit error are answered first', () => {
    const r = statusOf(`${ok}${ok}GET /${'x'.repeat(300)} HTTP/1.1\r\n`, { maxRequestLineBytes: 100 });
    expect(r.statuses).toEqual([200, 200, 414]);
    expect(r.closed).toBe(true);
  });

  it('rejects nonsense limits at construction', () => {
    expect(() => new HttpServerSession({ maxBodyBytes: 0 })).toThrow(RangeError);
    expect(() => new HttpServerSession({ maxHeaderCount: 1.5 })).toThrow(RangeError);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../limits.js';
import { ascii, drive, type ParsedResponse, parseResponses, splitAt } from '../test-session-driver.js';
import { HttpServerSession } from './server-session.js';

const LIMITS = { maxRequestLineBytes: 256, maxHeaderBytes: 512, maxHeaderCount: 8, maxBodyBytes: 512 };
const resolved = resolveLimits(LIMITS);
const LINE_BOUND =
  Math.max(resolved.maxRequestLineBytes, resolved.maxHeaderBytes, resolved.maxChunkLineBytes) + 1;

const VALID = [
  'GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
  'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n',
  'GET /json HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n',
  'GET /cpu?n=1 HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /sleep?ms=0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
];

/**
 * What any input must produce: valid HTTP responses (http-parser-js reads them), at most one of them
 * says Connection: close and it is the last one; the session closed iff that response was sent; and the
 * unparsed input it holds stays under the largest line cap.
 */
function checkInvariants(input: Uint8Array, cuts: number[]): void {
  const session = new HttpServerSession(LIMITS);
  let maxBuffered = 0;
  const chunks = splitAt(input, cuts);
  // Drive chunk by chunk to observe bufferedBytes after every receive.
  let closedAt = -1;
  const sent: Uint8Array[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const res = drive(session, [chunks[i]!]);
    sent.push(res.bytes);
    maxBuffered = Math.max(maxBuffered, session.bufferedBytes);
    if (res.closed) {
      closedAt = i;
      break;
    }
  }
  let responses: ParsedResponse[] = [];
  expect(() => {
    responses = parseResponses(Buffer.concat(sent));
  }).not.toThrow();
  const closing = responses.filter((r) => r.headers.connection === 'close');
  expect(closing.length).toBeLessThanOrEqual(1);
  if (closing.length === 1) expect(responses.at(-1)!.headers.connection).toBe('close');
  expect(closedAt >= 0).toBe(closing.length === 1);
  for (const r of responses.slice(0, -1)) expect([100, 200, 400, 404, 405]).toContain(r.status);
  expect(maxBuffered).toBeLessThanOrEqual(LINE_BOUND);
}

describe('HTTP session fuzz', () => {
  it('random bytes never throw and end in valid responses or one error + close', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.array(fc.nat({ max: 2048 }), { maxLength: 8 }),
        (bytes, cuts) => checkInvariants(bytes, cuts),
      ),
      { numRuns: 400 },
    );
  });

  it('random ASCII lines (closer to HTTP) never throw either', () => {
    const line = fc.stringMatching(/^[ -~\t]{0,40}$/).map((s) => `${s}\r\n`);
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.array(fc.nat({ max: 800 }), { maxLength: 8 }),
        (lines, cuts) =>
          checkInvariants(ascii(`GET /json HTTP/1.1\r\nHost: a\r\n\r\n${lines.join('')}`), cuts),
      ),
      { numRuns: 300 },
    );
  });

  it('mutated valid pipelines never throw and keep the invariants', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...VALID), { minLength: 1, maxLength: 6 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat({ max: 600 }), { maxLength: 6 }),
        (requests, mutations, cuts) => {
          const bytes = [...ascii(requests.join(''))];
          for (const m of mutations) {
            const at = m.at % (bytes.length + 1);
            if (m.kind === 'flip' && at < bytes.length) bytes[at] = m.byte;
            else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
            else if (m.kind === 'delete' && at < bytes.length) bytes.splice(at, 1);
          }
          checkInvariants(Uint8Array.from(bytes), cuts);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a 1 GiB Content-Length or chunk size allocates nothing: 413 at once', () => {
    for (const head of [
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1073741824\r\n\r\n',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\n',
    ]) {
      const before = process.memoryUsage().arrayBuffers;
      const result = drive(new HttpServerSession(), [ascii(`${head}x`)]);
      expect(parseResponses(result.bytes)[0]!.status).toBe(413);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    }
  });
});

// The parser has two ways through a request head: one pass over a head that is all buffered (the common
// case, and the event loop's hot path), and the line-by-line path for heads that arrive in pieces or hold
// anything unusual. They must agree on every input: the same requests, and the same error (code, status
// and connection offset) at the same point. Fed one byte per read, every head takes the line path (the
// one-pass attempt needs the whole head); fed in one read, every head takes the one-pass path first.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../input-buffer.js';
import { resolveLimits, type SessionLimits } from '../limits.js';
import { ascii, concat, latin1 } from '../test-session-driver.js';
import { HttpRequestParser } from './request-parser.js';
import { requestArb, serialize } from './test-request-arbitrary.js';

type Outcome =
  | {
      kind: 'request';
      method: string;
      target: string;
      version: string;
      headers: string;
      body: string;
      keepAlive: boolean;
    }
  | { kind: 'continue' }
  | { kind: 'error'; code: string; status: number; offset: number };

function parseAll(bytes: Uint8Array, readSize: number, limits: SessionLimits): Outcome[] {
  const parser = new HttpRequestParser(resolveLimits(limits), { recordHeaders: true });
  const input = new InputBuffer();
  const seen: Outcome[] = [];
  for (let at = 0; at < bytes.length; at += readSize) {
    input.append(bytes.subarray(at, at + readSize));
    for (;;) {
      const step = parser.next(input);
      if (step.kind === 'need-more') break;
      if (step.kind === 'continue') {
        seen.push({ kind: 'continue' });
        continue;
      }
      if (step.kind === 'error') {
        const { code, status, offset } = step.error;
        seen.push({ kind: 'error', code, status, offset });
        return seen;
      }
      const q = step.request;
      seen.push({
        kind: 'request',
        method: q.method,
        target: q.target,
        version: q.version,
        headers: JSON.stringify(q.headers),
        body: latin1(q.body),
        keepAlive: q.keepAlive,
      });
    }
    input.release();
  }
  return seen;
}

function agree(bytes: Uint8Array, limits: SessionLimits = {}): Outcome[] {
  const whole = parseAll(bytes, bytes.length || 1, limits);
  expect(parseAll(bytes, 1, limits)).toEqual(whole);
  return whole;
}

/** Bytes that sit on the edges of the head grammar: CR, LF, SP, HTAB, ':', DEL, NUL, obs-text, '/'. */
const edgeByte = fc.constantFrom(0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x7f, 0x00, 0xff, 0x80, 0x2f, 0x31, 0x30);

describe('HTTP parser: one-pass heads and line-by-line heads agree', () => {
  it('on generated valid pipelines', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 4 }), (requests) => {
        const outcomes = agree(concat(requests.map((r) => serialize(r).bytes)));
        expect(outcomes.filter((o) => o.kind === 'request')).toHaveLength(requests.length);
      }),
      { numRuns: 300 },
    );
  });

  it('on generated requests with bytes overwritten, inserted or cut off', () => {
    fc.assert(
      fc.property(
        requestArb,
        fc.array(fc.tuple(fc.nat({ max: 400 }), edgeByte, fc.constantFrom('set', 'insert', 'cut')), {
          minLength: 1,
          maxLength: 3,
        }),
        (request, edits) => {
          let bytes = Array.from(serialize(request).bytes);
          for (const [at, byte, how] of edits) {
            const i = at % (bytes.length + 1);
            if (how === 'set' && i < bytes.length) bytes[i] = byte;
            else if (how === 'insert') bytes.splice(i, 0, byte);
            else bytes = bytes.slice(0, i);
          }
          agree(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('at every cap, one byte under and over it', () => {
    const head = (target: string, fields: string[]): Uint8Array =>
      ascii(`GET ${target} HTTP/1.1\r\nHost: a\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`);
    for (let n = 0; n <= 4; n++) {
      // Request line: "GET " + target + " HTTP/1.1" against maxRequestLineBytes 30.
      const target = `/${'a'.repeat(16 + n)}`;
      agree(head(target, []), { maxRequestLineBytes: 30 });
      // Header section: "Host: a" (9 with CRLF) + one field sized around the 40-byte budget.
      agree(head('/', [`X: ${'v'.repeat(24 + n)}`]), { maxHeaderBytes: 40 });
      agree(
        head(
          '/',
          Array.from({ length: 2 + n }, (_, k) => `F${k}: v`),
        ),
        { maxHeaderCount: 4 },
      );
    }
    const over = agree(head(`/${'a'.repeat(30)}`, []), { maxRequestLineBytes: 30 });
    expect(over).toEqual([expect.objectContaining({ kind: 'error', status: 414 })]);
  });

  it('keeps the request-target string of a repeated target, and makes a new one when it changes', () => {
    const parser = new HttpRequestParser(resolveLimits());
    const input = new InputBuffer();
    const targets: string[] = [];
    for (const t of ['/plaintext', '/plaintext', '/plaintexu', '/json', `/${'x'.repeat(300)}`, '/json']) {
      input.append(ascii(`GET ${t} HTTP/1.1\r\nHost: a\r\n\r\n`));
      const step = parser.next(input);
      if (step.kind !== 'request') throw new Error(`expected a request, got ${step.kind}`);
      targets.push(step.request.target);
      input.release();
    }
    expect(targets).toEqual([
      '/plaintext',
      '/plaintext',
      '/plaintexu',
      '/json',
      `/${'x'.repeat(300)}`,
      '/json',
    ]);
  });
});

// Differential test: on generated valid requests our parser and http-parser-js must see the same method,
// target, version, headers and body, under any chunking of the pipelined stream.

import fc from 'fast-check';
import httpParserJs from 'http-parser-js';
import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../input-buffer.js';
import { resolveLimits } from '../limits.js';
import { concat, latin1, splitAt } from '../test-session-driver.js';
import { HttpRequestParser } from './request-parser.js';
import { requestArb, type Seen, serialize } from './test-request-arbitrary.js';

const { HTTPParser } = httpParserJs;

function ours(chunks: Uint8Array[]): Seen[] {
  const parser = new HttpRequestParser(resolveLimits(), { recordHeaders: true });
  const input = new InputBuffer();
  const seen: Seen[] = [];
  for (const c of chunks) {
    input.append(c);
    for (;;) {
      const step = parser.next(input);
      if (step.kind === 'need-more') break;
      if (step.kind === 'error') throw step.error;
      if (step.kind === 'continue') continue;
      const q = step.request;
      seen.push({
        method: q.method,
        url: q.target,
        version: q.version,
        headers: q.headers.map(([n, v]) => [n, v]),
        body: latin1(q.body),
      });
    }
  }
  return seen;
}

function theirs(chunks: Uint8Array[]): Seen[] {
  const parser = new HTTPParser(HTTPParser.REQUEST);
  const seen: Seen[] = [];
  let current: Seen | undefined;
  let body: Uint8Array[] = [];
  parser[HTTPParser.kOnHeadersComplete] = (info) => {
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < info.headers.length; i += 2) {
      headers.push([info.headers[i]!.toLowerCase(), info.headers[i + 1]!.trim()]);
    }
    current = {
      method: HTTPParser.methods[info.method] ?? String(info.method),
      url: info.url,
      version: `${info.versionMajor}.${info.versionMinor}`,
      headers,
      body: '',
    };
    body = [];
  };
  parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
    body.push(Uint8Array.prototype.slice.call(chunk, offset, offset + length));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current) seen.push({ ...current, body: latin1(concat(body)) });
  };
  for (const c of chunks) {
    const r = parser.execute(Buffer.from(c));
    if (r instanceof Error) throw r;
  }
  return seen;
}

describe('HTTP parser vs http-parser-js', () => {
  it('agree on method, target, version, headers and body of generated pipelines', () => {
    fc.assert(
      fc.property(
        fc.array(requestArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 10 }),
        (requests, cuts) => {
          const serialized = requests.map(serialize);
          const stream = concat(serialized.map((s) => s.bytes));
          const chunks = splitAt(stream, cuts);
          const a = ours(chunks);
          // http-parser-js reports trailers into the header list, so compare headers without them.
          const b = theirs(chunks).map((s, i) => ({
            ...s,
            headers: s.headers.slice(0, a[i]?.headers.length),
          }));
          expect(a).toEqual(b);
          expect(a).toEqual(serialized.map((s) => s.expected));
        },
      ),
      { numRuns: 300 },
    );
  });
});

// Differential test: on generated valid requests our parser and http-parser-js must see the same method,
// target, version, headers and body, under any chunking of the pipelined stream.

import fc from 'fast-check';
import httpParserJs from 'http-parser-js';
import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../input-buffer.js';
import { resolveLimits } from '../limits.js';
import { ascii, concat, latin1, splitAt } from '../test-session-driver.js';
import { HttpRequestParser } from './request-parser.js';

const { HTTPParser } = httpParserJs;

interface Seen {
  method: string;
  url: string;
  version: string;
  headers: [string, string][];
  body: string;
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const fieldValue = fc.stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/);
const pathChars = fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]{0,30}(\?[A-Za-z0-9=&%._-]{0,20})?$/);
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect']);

const requestArb = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    path: pathChars,
    version: fc.constantFrom('1.0', '1.1'),
    headers: fc.array(fc.tuple(token, fieldValue), { maxLength: 6 }),
    body: fc.uint8Array({ maxLength: 300 }),
    chunked: fc.boolean(),
    chunkCuts: fc.array(fc.nat({ max: 300 }), { maxLength: 5 }),
    withExtension: fc.boolean(),
    trailers: fc.array(fc.tuple(token, fieldValue), { maxLength: 2 }),
  })
  .map((r) => ({
    ...r,
    headers: r.headers.filter(([n]) => !RESERVED.has(n.toLowerCase())),
    trailers: r.trailers.filter(([n]) => !RESERVED.has(n.toLowerCase())),
    // HTTP/1.0 has no chunked coding, and keep-alive must be asked for so the pipeline continues.
    chunked: r.chunked && r.version === '1.1',
  }));

type GeneratedRequest = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function serialize(r: GeneratedRequest): { bytes: Uint8Array; expected: Seen } {
  const lines = [`${r.method} ${r.path} HTTP/${r.version}`, 'Host: example.test'];
  if (r.version === '1.0') lines.push('Connection: keep-alive');
  for (const [n, v] of r.headers) lines.push(`${n}: ${v}`);
  const parts: Uint8Array[] = [];
  if (r.chunked) {
    lines.push('Transfer-Encoding: chunked');
    parts.push(ascii(`${lines.join('\r\n')}\r\n\r\n`));
    for (const piece of splitAt(r.body, r.chunkCuts)) {
      if (piece.length === 0) continue;
      parts.push(
        ascii(`${piece.length.toString(16)}${r.withExtension ? ';ext="v"' : ''}\r\n`),
        piece,
        ascii('\r\n'),
      );
    }
    parts.push(ascii(`0\r\n${r.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`));
  } else {
    lines.push(`Content-Length: ${r.body.length}`);
    parts.push(ascii(`${lines.join('\r\n')}\r\n\r\n`), r.body);
  }
  const headerNames = lines.slice(1).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as [string, string];
  });
  return {
    bytes: concat(parts),
    expected: {
      method: r.method,
      url: r.path,
      version: r.version,
      headers: headerNames,
      body: latin1(r.body),
    },
  };
}

function ours(chunks: Uint8Array[]): Seen[] {
  const parser = new HttpRequestParser(resolveLimits());
  const input = new InputBuffer();
  const seen: Seen[] = [];
  for (const c of chunks) {
    input.append(c);
    for (;;) {
      const step = parser.next(input);
      if (step.kind === 'need-more') break;
      if (step.kind === 'error') throw step.error;
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

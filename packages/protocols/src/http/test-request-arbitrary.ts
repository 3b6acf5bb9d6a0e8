// Test-only: generated valid HTTP/1.1 requests and what a parser should see in them, shared by the
// differential tests (against http-parser-js in memory, and against Node's llhttp over loopback).

import fc from 'fast-check';
import { ascii, concat, latin1, splitAt } from '../test-session-driver.js';

export interface Seen {
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

export const requestArb = fc
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

export type GeneratedRequest = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

export function serialize(r: GeneratedRequest): { bytes: Uint8Array; expected: Seen } {
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

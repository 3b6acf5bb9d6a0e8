// Differential test against Node's own parser (llhttp): the same generated pipelines go to a real
// node:http server on loopback and into our parser; both must see the same requests.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputBuffer } from '../input-buffer.js';
import { resolveLimits } from '../limits.js';
import { concat, latin1 } from '../test-session-driver.js';
import { rawExchange } from '../test-tcp-server.js';
import { HttpRequestParser } from './request-parser.js';
import { requestArb, type Seen, serialize } from './test-request-arbitrary.js';

let server: http.Server;
let seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
      }
      seen.push({
        method: req.method!,
        url: req.url!,
        version: req.httpVersion,
        headers,
        body: latin1(Buffer.concat(parts)),
      });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function ours(bytes: Uint8Array): Seen[] {
  const parser = new HttpRequestParser(resolveLimits(), { recordHeaders: true });
  const input = new InputBuffer();
  input.append(bytes);
  const out: Seen[] = [];
  for (;;) {
    const step = parser.next(input);
    if (step.kind === 'need-more') return out;
    if (step.kind === 'error') throw step.error;
    if (step.kind === 'continue') continue;
    const q = step.request;
    out.push({
      method: q.method,
      url: q.target,
      version: q.version,
      headers: q.headers.map(([n, v]) => [n, v]),
      body: latin1(q.body),
    });
  }
}

describe('HTTP parser vs Node llhttp over loopback', () => {
  it('agree on generated pipelines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 4 }), async (requests) => {
        const serialized = requests.map(serialize);
        const bytes = concat(serialized.map((s) => s.bytes));
        seen = [];
        // Half-close after writing: Node answers every request, then closes, which ends the exchange.
        await rawExchange((server.address() as AddressInfo).port, [bytes], true);
        expect(seen).toHaveLength(requests.length);
        expect(ours(bytes)).toEqual(seen);
      }),
      { numRuns: 40 },
    );
  });
});

// The parser never rescans: however the bytes are chunked, the LF search looks at each byte about once.
// Counted, not timed (the machine is shared; a timing assertion would be noise).

import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../input-buffer.js';
import { resolveLimits } from '../limits.js';
import { ascii } from '../test-session-driver.js';
import { HttpRequestParser } from './request-parser.js';

class CountingInputBuffer extends InputBuffer {
  scanned = 0;
  override indexOf(byte: number, from: number): number {
    const found = super.indexOf(byte, from);
    this.scanned += (found === -1 ? this.length : found + 1) - from;
    return found;
  }
}

function scannedFor(request: Uint8Array, chunkSize: number): { scanned: number; requests: number } {
  const parser = new HttpRequestParser(resolveLimits({ maxBodyBytes: 1 << 20 }));
  const input = new CountingInputBuffer();
  let requests = 0;
  for (let at = 0; at < request.length; at += chunkSize) {
    input.append(request.subarray(at, at + chunkSize));
    for (;;) {
      const step = parser.next(input);
      if (step.kind === 'error') throw step.error;
      if (step.kind === 'need-more') break;
      if (step.kind === 'request') requests++;
    }
    input.release();
  }
  return { scanned: input.scanned, requests };
}

describe('HTTP parser linearity', () => {
  it('a 15 KiB header arriving one byte at a time is scanned once, not 15 K times', () => {
    const request = ascii(`GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Big: ${'v'.repeat(15_000)}\r\n\r\n`);
    const { scanned, requests } = scannedFor(request, 1);
    expect(requests).toBe(1);
    expect(scanned).toBeLessThanOrEqual(request.length);
  });

  it('a chunked body in 7-byte reads: chunk data is never searched for LF', () => {
    const chunks = `${'400\r\n'}${'x'.repeat(0x400)}\r\n`.repeat(64);
    const request = ascii(
      `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    const { scanned, requests } = scannedFor(request, 7);
    expect(requests).toBe(1);
    expect(scanned).toBeLessThan(64 * 16 + 100);
  });
});

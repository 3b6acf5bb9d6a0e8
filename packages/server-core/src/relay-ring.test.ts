import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RelayBufferError } from './errors.js';
import { createRelayBuffer, relayViews, ringRead, ringWrite } from './relay-buffer.js';

describe('relay ring', () => {
  it('round-trips bytes at any position, including across the 2^32 wrap of stream positions', () => {
    const ring = new Uint8Array(256);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        (pos, bytes) => {
          const int32Pos = pos | 0; // positions live in Int32 control words
          ringWrite(ring, int32Pos, bytes);
          const out = new Uint8Array(bytes.length);
          ringRead(ring, int32Pos, out, bytes.length);
          expect(out).toEqual(bytes);
        },
      ),
    );
  });

  it('keeps consecutive writes contiguous across the wrap', () => {
    const ring = new Uint8Array(256);
    const start = (2 ** 32 - 100) | 0;
    ringWrite(ring, start, new Uint8Array(100).fill(1));
    ringWrite(ring, (start + 100) | 0, new Uint8Array(50).fill(2));
    const out = new Uint8Array(150);
    ringRead(ring, start, out, 150);
    expect(out.subarray(0, 100).every((b) => b === 1)).toBe(true);
    expect(out.subarray(100).every((b) => b === 2)).toBe(true);
  });

  it('rejects capacities that are not powers of two or out of range, with a stable code', () => {
    for (const inbound of [1000, 128, 3.5, 2 ** 27]) {
      expect(() => createRelayBuffer({ inbound })).toThrow(RelayBufferError);
    }
    try {
      createRelayBuffer({ outbound: 1000 });
    } catch (err) {
      expect((err as RelayBufferError).code).toBe('IOLAB_RELAY_BAD_BUFFER');
    }
  });

  it('refuses a buffer it did not make', () => {
    expect(() => relayViews(new SharedArrayBuffer(4096))).toThrow(RelayBufferError);
  });
});

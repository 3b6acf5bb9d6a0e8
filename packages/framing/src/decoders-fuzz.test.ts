import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DelimiterDecoder } from './delimiter-decoder.js';
import { CorruptFrameError, FramingError, TruncatedFrameError } from './errors.js';
import { FixedLengthDecoder } from './fixed-length-decoder.js';
import type { FrameDecoder } from './frame-decoder.js';
import { LengthFieldDecoder, type LengthFieldLength } from './length-field-decoder.js';
import { LineDecoder } from './line-decoder.js';
import { cutAt, hex, isolate } from './test-chunking.js';

const MAX = 64;

// Longest delimiter (or \r) a decoder may hold beyond maxFrameLength while it waits for the next byte.
const decoderArbitrary: fc.Arbitrary<{ name: string; make: () => FrameDecoder; slack: number }> = fc.oneof(
  fc
    .record({
      width: fc.constantFrom<LengthFieldLength>(1, 2, 3, 4, 8, 'varint'),
      le: fc.boolean(),
      offset: fc.integer({ min: 0, max: 3 }),
      adjustment: fc.integer({ min: -6, max: 6 }),
      strip: fc.integer({ min: 0, max: 6 }),
      failFast: fc.boolean(),
    })
    .map(({ width, le, offset, adjustment, strip, failFast }) => ({
      name: `length field ${JSON.stringify({ width, le, offset, adjustment, strip, failFast })}`,
      make: () =>
        new LengthFieldDecoder({
          lengthFieldLength: width,
          byteOrder: le ? 'LE' : 'BE',
          lengthFieldOffset: width === 'varint' ? 0 : offset,
          lengthAdjustment: adjustment,
          initialBytesToStrip: width === 'varint' ? undefined : strip,
          maxFrameLength: MAX,
          failFast,
        }),
      slack: 0,
    })),
  fc.boolean().map((failFast) => ({
    name: `line failFast=${failFast}`,
    make: () => new LineDecoder({ maxFrameLength: MAX, failFast }),
    slack: 1,
  })),
  fc
    .record({
      delimiters: fc.array(fc.uint8Array({ minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      failFast: fc.boolean(),
    })
    .map(({ delimiters, failFast }) => ({
      name: `delimiters ${hex(delimiters)} failFast=${failFast}`,
      make: () => new DelimiterDecoder({ delimiters, maxFrameLength: MAX, failFast }),
      slack: 2,
    })),
  fc.integer({ min: 1, max: MAX }).map((frameLength) => ({
    name: `fixed ${frameLength}`,
    make: () => new FixedLengthDecoder({ frameLength, maxFrameLength: MAX }),
    slack: 0,
  })),
);

// Random bytes biased towards small values and delimiter-ish bytes, so headers and matches happen often.
const noise = fc.uint8Array({ maxLength: 2000 }).map((a) => a.map((x) => (x < 128 ? x & 0x0f : x)));

describe('fuzz: random bytes raise only typed errors, and buffering stays bounded', () => {
  it('any decoder, any bytes, any chunking', () => {
    fc.assert(
      fc.property(
        decoderArbitrary,
        noise,
        fc.array(fc.nat(2000), { maxLength: 30 }),
        ({ make, slack }, bytes, raw) => {
          const offsets = [...new Set(raw.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
          const decoder = make();
          let poisoned = false;
          for (const chunk of isolate(cutAt(bytes, offsets))) {
            let frames: Uint8Array[] = [];
            try {
              frames = decoder.push(chunk);
            } catch (error) {
              expect(error).toBeInstanceOf(FramingError);
              expect(['IOLAB_FRAME_TOO_LONG', 'IOLAB_FRAME_CORRUPT']).toContain((error as FramingError).code);
              expect((error as FramingError).offset).toBeGreaterThanOrEqual(0);
              expect((error as FramingError).offset).toBeLessThanOrEqual(bytes.length);
              frames = (error as FramingError).frames;
              if (error instanceof CorruptFrameError) {
                poisoned = true;
                break;
              }
            }
            for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(MAX + slack);
            const buffered = (decoder as unknown as { bufferedBytes: number }).bufferedBytes;
            expect(buffered).toBeLessThanOrEqual(MAX + slack);
          }
          if (!poisoned) {
            try {
              decoder.end();
            } catch (error) {
              expect(error).toBeInstanceOf(TruncatedFrameError);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});

// The rule DelimiterDecoder promises, written the slow and obvious way over the whole input.
function reference(bytes: Uint8Array, delimiters: Uint8Array[]): { frames: string[]; truncated: boolean } {
  const frames: string[] = [];
  let start = 0;
  let p = 0;
  outer: while (p < bytes.length) {
    for (const d of delimiters) {
      let j = 0;
      while (j < d.length && p + j < bytes.length && bytes[p + j] === d[j]) j++;
      if (j === d.length) {
        frames.push(Buffer.from(bytes.subarray(start, p)).toString('hex'));
        p += d.length;
        start = p;
        continue outer;
      }
      if (p + j === bytes.length) break outer; // this delimiter might still match: wait
    }
    p++;
  }
  return { frames, truncated: start < bytes.length };
}

describe('DelimiterDecoder agrees with an obvious reference on random input and chunking', () => {
  it('small alphabet, random delimiters', () => {
    const alphabet = fc.constantFrom(0x61, 0x62, 0x0a, 0x0d);
    fc.assert(
      fc.property(
        fc.array(fc.array(alphabet, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        fc.array(alphabet, { maxLength: 200 }),
        fc.array(fc.nat(200), { maxLength: 20 }),
        (rawDelimiters, rawBytes, rawCuts) => {
          const delimiters = rawDelimiters.map((d) => Uint8Array.from(d));
          const bytes = Uint8Array.from(rawBytes);
          const offsets = [...new Set(rawCuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
          const expected = reference(bytes, delimiters);
          const decoder = new DelimiterDecoder({ delimiters, maxFrameLength: 1000 });
          const frames: string[] = [];
          for (const chunk of isolate(cutAt(bytes, offsets))) frames.push(...hex(decoder.push(chunk)));
          let truncated = false;
          try {
            decoder.end();
          } catch (error) {
            expect(error).toBeInstanceOf(TruncatedFrameError);
            truncated = true;
          }
          expect(frames).toEqual(expected.frames);
          expect(truncated).toBe(expected.truncated);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('errors do not depend on chunking', () => {
  // Frames and too-long errors (offset, and exact length when failFast is off) are the same for every
  // chunking of the same bytes as for one big chunk.
  it('any decoder, bytes with oversize frames, random chunkings', () => {
    fc.assert(
      fc.property(
        decoderArbitrary,
        noise,
        fc.array(fc.nat(2000), { maxLength: 30 }),
        ({ make }, bytes, raw) => {
          // Repeated offsets are kept on purpose: they make empty chunks, which must change nothing.
          const offsets = raw.map((x) => x % (bytes.length + 1)).sort((a, b) => a - b);
          const run = (chunks: Uint8Array[]) => {
            const decoder = make();
            const frames: string[] = [];
            const errors: string[] = [];
            for (const chunk of chunks) {
              try {
                frames.push(...hex(decoder.push(chunk)));
              } catch (error) {
                const e = error as FramingError;
                frames.push(...hex(e.frames));
                errors.push(`${e.code}@${e.offset}`);
                if (error instanceof CorruptFrameError) return { frames, errors };
              }
            }
            try {
              decoder.end();
            } catch (error) {
              errors.push(`${(error as FramingError).code}@${(error as FramingError).offset}`);
            }
            return { frames, errors };
          };
          const whole = run([bytes]);
          const chunked = run(isolate(cutAt(bytes, offsets)));
          expect(chunked).toEqual(whole);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

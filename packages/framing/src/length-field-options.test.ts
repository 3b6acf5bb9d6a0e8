import { describe, expect, it } from 'vitest';
import { CorruptFrameError, FrameTooLongError, TruncatedFrameError } from './errors.js';
import { type ByteOrder, LengthFieldDecoder, type LengthFieldLength } from './length-field-decoder.js';
import { LengthFieldEncoder } from './length-field-encoder.js';
import { concat, decodeAll, everyChunking, hex, isolate, oneByteChunks, text } from './test-chunking.js';

const b = (...bytes: number[]) => Uint8Array.from(bytes);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('LengthFieldDecoder: widths and byte orders', () => {
  const widths: LengthFieldLength[] = [1, 2, 3, 4, 8, 'varint'];
  const orders: ByteOrder[] = ['BE', 'LE'];
  for (const width of widths) {
    for (const byteOrder of width === 'varint' || width === 1 ? (['BE'] as const) : orders) {
      it(`${width}-byte ${byteOrder}: encoder output decodes back under every split`, () => {
        const encoder = new LengthFieldEncoder({ lengthFieldLength: width, byteOrder });
        const payloads = [text(''), text('a'), text('hello'), new Uint8Array(200).fill(7)];
        const stream = concat(payloads.flatMap((p) => encoder.encode(p)));
        const strip = width === 'varint' ? undefined : width;
        for (const chunks of everyChunking(stream)) {
          const decoder = new LengthFieldDecoder({
            lengthFieldLength: width,
            byteOrder,
            initialBytesToStrip: strip,
          });
          expect(hex(decodeAll(decoder, isolate(chunks)))).toEqual(hex(payloads));
        }
      });
    }
  }

  it('reads the bytes in the stated order', () => {
    const le = new LengthFieldDecoder({ lengthFieldLength: 4, byteOrder: 'LE', initialBytesToStrip: 4 });
    expect(hex(le.push(b(2, 0, 0, 0, 0xaa, 0xbb)))).toEqual(['aabb']);
    const be3 = new LengthFieldDecoder({ lengthFieldLength: 3, initialBytesToStrip: 3 });
    expect(be3.push(concat([b(0, 1, 0), new Uint8Array(256)]))[0]!.length).toBe(256);
    const le8 = new LengthFieldDecoder({ lengthFieldLength: 8, byteOrder: 'LE', initialBytesToStrip: 8 });
    expect(hex(le8.push(b(1, 0, 0, 0, 0, 0, 0, 0, 0x42)))).toEqual(['42']);
  });

  it('varint frames come without their header; a 300-byte frame has a 2-byte header', () => {
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 'varint' });
    const frames = decoder.push(concat([b(0xac, 0x02), new Uint8Array(300).fill(1)]));
    expect(frames.map((f) => f.length)).toEqual([300]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('refuses impossible options', () => {
    expect(() => new LengthFieldDecoder({ lengthFieldLength: 5 as LengthFieldLength })).toThrow(RangeError);
    expect(() => new LengthFieldDecoder({ lengthFieldLength: 'varint', initialBytesToStrip: 1 })).toThrow(
      RangeError,
    );
    expect(() => new LengthFieldDecoder({ lengthFieldLength: 4, maxFrameLength: 3 })).toThrow(RangeError);
    expect(() => new LengthFieldDecoder({ lengthFieldLength: 2, lengthFieldOffset: -1 })).toThrow(RangeError);
    expect(() => new LengthFieldDecoder({ lengthFieldLength: 2, byteOrder: 'XX' as ByteOrder })).toThrow(
      RangeError,
    );
  });
});

describe('LengthFieldDecoder: corrupt length fields poison the decoder', () => {
  const cases: [string, ConstructorParameters<typeof LengthFieldDecoder>[0], Uint8Array, RegExp][] = [
    ['negative after adjustment', { lengthFieldLength: 2, lengthAdjustment: -3 }, b(0, 2, 9, 9), /negative/],
    [
      'shorter than initialBytesToStrip',
      { lengthFieldLength: 1, initialBytesToStrip: 4 },
      b(1, 9),
      /initialBytesToStrip/,
    ],
    [
      '8-byte length of 2^53',
      { lengthFieldLength: 8, maxFrameLength: 2 ** 40 },
      b(0, 0x20, 0, 0, 0, 0, 0, 0),
      /2\^53/,
    ],
    ['varint of 11 bytes', { lengthFieldLength: 'varint' }, new Uint8Array(11).fill(0x80), /longer than 10/],
    ['non-minimal varint', { lengthFieldLength: 'varint' }, b(0x81, 0x00), /minimal/],
    [
      'varint beyond 2^53',
      { lengthFieldLength: 'varint' },
      b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10),
      /2\^53/,
    ],
    [
      'varint negative after adjustment',
      { lengthFieldLength: 'varint', lengthAdjustment: -2 },
      b(1, 0),
      /negative/,
    ],
  ];
  for (const [name, options, bytes, message] of cases) {
    it(`${name}: CorruptFrameError at the frame's offset, under every split`, () => {
      for (const chunks of everyChunking(concat([bytes, b(0, 0, 0)]))) {
        const decoder = new LengthFieldDecoder(options);
        const error = thrown(() => {
          for (const chunk of chunks) decoder.push(chunk);
        });
        expect(error).toBeInstanceOf(CorruptFrameError);
        expect((error as CorruptFrameError).code).toBe('IOLAB_FRAME_CORRUPT');
        expect((error as CorruptFrameError).offset).toBe(0);
        expect((error as Error).message).toMatch(message);
        expect(thrown(() => decoder.push(b(1)))).toBe(error);
        expect(thrown(() => decoder.end())).toBe(error);
      }
    });
  }

  it('the error carries the frames decoded before it, and the offset of the bad frame', () => {
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 'varint' });
    const error = thrown(() => decoder.push(concat([b(2, 0xaa, 0xbb, 1, 0xcc), b(0x81, 0x00)])));
    expect(error).toBeInstanceOf(CorruptFrameError);
    expect((error as CorruptFrameError).offset).toBe(5);
    expect(hex((error as CorruptFrameError).frames)).toEqual(['aabb', 'cc']);
  });
});

describe('LengthFieldDecoder: too-long frames are skipped and decoding resumes', () => {
  const frame = (length: number, fill: number) =>
    concat([b(length >> 8, length & 0xff), new Uint8Array(length).fill(fill)]);
  // 3 frames: ok (10) / too long (100, max 50 incl. 2-byte header) / ok (5)
  const stream = concat([frame(10, 1), frame(100, 2), frame(5, 3)]);

  for (const failFast of [true, false]) {
    it(`failFast ${failFast}: one FrameTooLongError, the other frames all arrive, under every split`, () => {
      for (const chunks of everyChunking(stream)) {
        const decoder = new LengthFieldDecoder({
          lengthFieldLength: 2,
          initialBytesToStrip: 2,
          maxFrameLength: 50,
          failFast,
        });
        const frames: Uint8Array[] = [];
        const errors: FrameTooLongError[] = [];
        let errorAfterByte = -1;
        let pushed = 0;
        for (const chunk of chunks) {
          pushed += chunk.length;
          try {
            frames.push(...decoder.push(chunk));
          } catch (error) {
            if (!(error instanceof FrameTooLongError)) throw error;
            errors.push(error);
            frames.push(...error.frames);
            errorAfterByte = pushed;
          }
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(50);
        }
        decoder.end();
        expect(frames.map((f) => f.length)).toEqual([10, 5]);
        expect(errors).toHaveLength(1);
        expect(errors[0]!.code).toBe('IOLAB_FRAME_TOO_LONG');
        expect(errors[0]!.offset).toBe(12);
        expect(errors[0]!.frameLength).toBe(102);
        expect(errors[0]!.maxFrameLength).toBe(50);
        // failFast: raised by the push that completes the header; otherwise by the one that ends the frame.
        const threshold = failFast ? 12 + 2 : 12 + 102;
        let total = 0;
        const firstPushReaching = chunks.map((c) => (total += c.length)).find((t) => t >= threshold);
        expect(errorAfterByte).toBe(firstPushReaching);
      }
    });
  }

  it('failFast: the error comes from the push that completes the length field, before the body arrives', () => {
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 2, maxFrameLength: 50 });
    expect(decoder.push(b(0))).toEqual([]);
    expect(thrown(() => decoder.push(b(100)))).toBeInstanceOf(FrameTooLongError);
    expect(decoder.push(new Uint8Array(100))).toEqual([]);
    expect(hex(decoder.push(b(0, 1, 0xee)))).toEqual(['0001ee']);
  });

  it('a length field claiming 1 GiB followed by one byte allocates nothing and buffers one byte', () => {
    const gib = 2 ** 30;
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 4, maxFrameLength: 2 ** 31 });
    const before = process.memoryUsage().arrayBuffers;
    expect(decoder.push(b(0x40, 0, 0, 1, 0x55))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(5);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(gib / 64);
    const error = thrown(() => decoder.end());
    expect(error).toBeInstanceOf(TruncatedFrameError);
    expect((error as TruncatedFrameError).receivedBytes).toBe(5);
  });

  it('end() after a complete stream is quiet and resets offsets', () => {
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 1 });
    decoder.push(b(1, 1, 2));
    const error = thrown(() => decoder.end()) as TruncatedFrameError;
    expect(error.code).toBe('IOLAB_FRAME_TRUNCATED');
    expect(error.offset).toBe(2);
    decoder.push(b(0));
    decoder.end();
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe('TruncatedFrameError from every decoder shape', () => {
  it('reports where the unfinished frame starts, for every cut inside the last frame', () => {
    const stream = concat([b(0, 3, 1, 2, 3), b(0, 4, 1, 2, 3, 4)]);
    for (let cut = 6; cut < stream.length; cut++) {
      const decoder = new LengthFieldDecoder({ lengthFieldLength: 2 });
      for (const chunk of oneByteChunks(stream.subarray(0, cut))) decoder.push(chunk);
      const error = thrown(() => decoder.end()) as TruncatedFrameError;
      expect(error).toBeInstanceOf(TruncatedFrameError);
      expect(error.offset).toBe(5);
      expect(error.receivedBytes).toBe(cut - 5);
    }
  });
});

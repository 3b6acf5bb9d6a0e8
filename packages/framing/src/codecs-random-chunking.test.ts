import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DelimiterDecoder } from './delimiter-decoder.js';
import { DelimiterEncoder } from './delimiter-encoder.js';
import { FixedLengthDecoder } from './fixed-length-decoder.js';
import type { FrameDecoder, FrameEncoder } from './frame-decoder.js';
import { LengthFieldDecoder, type LengthFieldLength } from './length-field-decoder.js';
import { LengthFieldEncoder } from './length-field-encoder.js';
import { LineDecoder } from './line-decoder.js';
import { concat, cutAt, decodeAll, hex, isolate, oneByteChunks } from './test-chunking.js';

// A codec under test: an encoder, a matching decoder, and payloads it can carry.
interface Codec {
  name: string;
  encoder: FrameEncoder;
  decoder: () => FrameDecoder;
  payload: fc.Arbitrary<Uint8Array>;
}

const anyBytes = fc.uint8Array({ maxLength: 300 });
const withoutByte = (forbidden: number[]) =>
  fc.uint8Array({ maxLength: 300 }).map((a) => a.map((x) => (forbidden.includes(x) ? x ^ 0x40 : x)));

const lengthField = (width: LengthFieldLength, byteOrder: 'BE' | 'LE' = 'BE'): Codec => ({
  name: `length field ${width} ${byteOrder}`,
  encoder: new LengthFieldEncoder({ lengthFieldLength: width, byteOrder }),
  decoder: () =>
    new LengthFieldDecoder({
      lengthFieldLength: width,
      byteOrder,
      initialBytesToStrip: width === 'varint' ? undefined : width,
    }),
  payload: width === 1 ? fc.uint8Array({ maxLength: 255 }) : anyBytes,
});

const codecs: Codec[] = [
  lengthField(1),
  lengthField(2),
  lengthField(2, 'LE'),
  lengthField(3),
  lengthField(4),
  lengthField(4, 'LE'),
  lengthField(8),
  lengthField('varint'),
  {
    name: 'length field counting itself (Netty lengthIncludesLengthFieldLength)',
    encoder: new LengthFieldEncoder({ lengthFieldLength: 4, lengthIncludesLengthFieldLength: true }),
    decoder: () =>
      new LengthFieldDecoder({ lengthFieldLength: 4, lengthAdjustment: -4, initialBytesToStrip: 4 }),
    payload: anyBytes,
  },
  {
    name: 'line (\\n)',
    encoder: new DelimiterEncoder({ delimiter: '\n' }),
    decoder: () => new LineDecoder(),
    payload: withoutByte([0x0a, 0x0d]),
  },
  {
    name: 'line (\\r\\n)',
    encoder: new DelimiterEncoder({ delimiter: '\r\n' }),
    decoder: () => new LineDecoder(),
    payload: withoutByte([0x0a, 0x0d]),
  },
  {
    name: 'delimiter NUL',
    encoder: new DelimiterEncoder({ delimiter: '\0' }),
    decoder: () => new DelimiterDecoder({ delimiters: '\0' }),
    payload: withoutByte([0]),
  },
  {
    name: 'delimiter "--" among "\\n" and "--"',
    encoder: new DelimiterEncoder({ delimiter: '--' }),
    decoder: () => new DelimiterDecoder({ delimiters: ['\n', '--'] }),
    payload: withoutByte([0x0a, 0x2d]),
  },
];

// Random cut points of a stream of `length` bytes, sorted and distinct.
const cuts = (length: number) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: Math.max(0, length) }), { maxLength: 40 })
    .map((a) => a.sort((x, y) => x - y));

describe('every codec: encode → decode gives the payloads back, however the bytes are chunked', () => {
  for (const codec of codecs) {
    it(`${codec.name}: random payloads, random chunkings`, () => {
      fc.assert(
        fc.property(
          fc.array(codec.payload, { maxLength: 12 }).chain((payloads) => {
            const stream = concat(payloads.flatMap((p) => codec.encoder.encode(p)));
            return fc.tuple(fc.constant(payloads), fc.constant(stream), cuts(stream.length));
          }),
          ([payloads, stream, offsets]) => {
            const frames = decodeAll(codec.decoder(), isolate(cutAt(stream, offsets)));
            expect(hex(frames)).toEqual(hex(payloads));
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`${codec.name}: one-byte chunks`, () => {
      fc.assert(
        fc.property(fc.array(codec.payload, { maxLength: 6 }), (payloads) => {
          const stream = concat(payloads.flatMap((p) => codec.encoder.encode(p)));
          expect(hex(decodeAll(codec.decoder(), oneByteChunks(stream)))).toEqual(hex(payloads));
        }),
        { numRuns: 30 },
      );
    });
  }

  it('fixed length: random chunkings', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 20 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 255 })),
        (size, count, bytes) => {
          const stream = Uint8Array.from(bytes.take(size * count));
          const expected = Array.from({ length: count }, (_, i) => stream.subarray(i * size, (i + 1) * size));
          return fc.assert(
            fc.property(cuts(stream.length), (offsets) => {
              const frames = decodeAll(
                new FixedLengthDecoder({ frameLength: size }),
                isolate(cutAt(stream, offsets)),
              );
              expect(hex(frames)).toEqual(hex(expected));
            }),
            { numRuns: 10 },
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('encoders refuse what the field or the delimiter cannot carry', () => {
    expect(() => new LengthFieldEncoder({ lengthFieldLength: 1 }).encode(new Uint8Array(256))).toThrow(
      RangeError,
    );
    expect(() =>
      new LengthFieldEncoder({ lengthFieldLength: 2, lengthAdjustment: -1 }).encode(new Uint8Array(0)),
    ).toThrow(RangeError);
    expect(() => new DelimiterEncoder({ delimiter: '\n' }).encode(Buffer.from('a\nb'))).toThrow(RangeError);
    expect(
      () => new LengthFieldEncoder({ lengthFieldLength: 'varint', lengthIncludesLengthFieldLength: true }),
    ).toThrow(RangeError);
  });

  it('encode() returns the payload itself, not a copy; encodeJoined() returns one buffer', () => {
    const payload = Buffer.from('hello');
    const [header, same] = new LengthFieldEncoder({ lengthFieldLength: 4 }).encode(payload);
    expect(same).toBe(payload);
    expect(hex([header!])).toEqual(['00000005']);
    expect(
      hex([new LengthFieldEncoder({ lengthFieldLength: 'varint' }).encodeJoined(new Uint8Array(300))])
        .at(0)!
        .slice(0, 4),
    ).toBe('ac02');
    const [line, newline] = new DelimiterEncoder({ delimiter: '\r\n' }).encode(payload);
    expect(line).toBe(payload);
    expect(hex([newline!])).toEqual(['0d0a']);
  });
});

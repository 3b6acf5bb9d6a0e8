import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameTooLongError } from './errors.js';
import { type LengthFieldCodecOptions, lengthFieldCodec } from './length-field-codec.js';
import { concat, decodeAll, everyChunking, text } from './test-chunking.js';

const payloads = [text('HELLO, WORLD'), new Uint8Array(0), text('x'), new Uint8Array(300).fill(7)];

describe('lengthFieldCodec: encoder and decoder from one options object agree', () => {
  const cases: LengthFieldCodecOptions[] = [
    { lengthFieldLength: 1 },
    { lengthFieldLength: 2 },
    { lengthFieldLength: 3, byteOrder: 'LE' },
    { lengthFieldLength: 4, lengthIncludesLengthFieldLength: true },
    { lengthFieldLength: 8, lengthAdjustment: 3 },
    { lengthFieldLength: 4, byteOrder: 'LE', lengthAdjustment: -2, lengthIncludesLengthFieldLength: true },
    { lengthFieldLength: 'varint' },
  ];
  for (const options of cases) {
    it(`round-trips every payload cut at every offset: ${JSON.stringify(options)}`, () => {
      const fits = options.lengthFieldLength === 1 ? payloads.filter((p) => p.length < 200) : payloads;
      const { encoder, decoder } = lengthFieldCodec(options);
      const wire = concat(fits.flatMap((p) => encoder.encode(p)));
      for (const chunks of everyChunking(wire)) {
        expect(decodeAll(decoder, chunks).map((f) => Buffer.from(f).toString('hex'))).toEqual(
          fits.map((p) => Buffer.from(p).toString('hex')),
        );
      }
      expect(decodeAll(decoder, [wire]).length).toBe(fits.length);
    });
  }

  it('holds for random options and payloads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2 as const, 3 as const, 4 as const, 8 as const, 'varint' as const),
        fc.constantFrom('BE' as const, 'LE' as const),
        fc.boolean(),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        (lengthFieldLength, byteOrder, includes, items) => {
          const options: LengthFieldCodecOptions =
            lengthFieldLength === 'varint'
              ? { lengthFieldLength }
              : { lengthFieldLength, byteOrder, lengthIncludesLengthFieldLength: includes };
          const { encoder, decoder } = lengthFieldCodec(options);
          const frames = decodeAll(decoder, [concat(items.flatMap((p) => encoder.encode(p)))]);
          expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(
            items.map((p) => Buffer.from(p).toString('hex')),
          );
        },
      ),
    );
  });

  it("applies maxFrameLength to the decoder (the whole frame on the wire, as Netty's)", () => {
    const { encoder, decoder } = lengthFieldCodec({ lengthFieldLength: 2, maxFrameLength: 10 });
    const wire = concat([...encoder.encode(text('12345678')), ...encoder.encode(text('123456789'))]);
    try {
      decoder.push(wire);
      expect.unreachable('an 11-byte frame must exceed maxFrameLength 10');
    } catch (err) {
      expect(err).toBeInstanceOf(FrameTooLongError);
      expect((err as FrameTooLongError).frames.map((f) => Buffer.from(f).toString())).toEqual(['12345678']);
    }
  });

  it('returns a fresh decoder per call, so two connections never share state', () => {
    const a = lengthFieldCodec({ lengthFieldLength: 2 });
    const b = lengthFieldCodec({ lengthFieldLength: 2 });
    a.decoder.push(new Uint8Array([0, 5, 1]));
    expect(b.decoder.push(new Uint8Array([0, 1, 9]))).toEqual([new Uint8Array([9])]);
  });
});

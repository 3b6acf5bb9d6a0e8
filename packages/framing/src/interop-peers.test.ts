import { Readable } from 'node:stream';
import fc from 'fast-check';
import * as lp from 'it-length-prefixed';
// @ts-expect-error length-prefixed-stream ships no types
import lps from 'length-prefixed-stream';
import split2 from 'split2';
import { describe, expect, it } from 'vitest';
import { LengthFieldDecoder } from './length-field-decoder.js';
import { LengthFieldEncoder } from './length-field-encoder.js';
import { LineDecoder } from './line-decoder.js';
import { concat, cutAt, decodeAll, hex, isolate } from './test-chunking.js';

const payloads = fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 20 });
const cutsOf = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 30 }).map((a) => a.sort((x, y) => x - y));

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return out;
}

describe('interop with it-length-prefixed and length-prefixed-stream', () => {
  it('our varint decoder reads what it-length-prefixed writes', () => {
    fc.assert(
      fc.property(
        payloads.chain((p) => {
          const stream = concat([...lp.encode(p)]);
          return fc.tuple(fc.constant(p), fc.constant(stream), cutsOf(stream.length));
        }),
        ([input, stream, cuts]) => {
          const frames = decodeAll(
            new LengthFieldDecoder({ lengthFieldLength: 'varint' }),
            isolate(cutAt(stream, cuts)),
          );
          expect(hex(frames)).toEqual(hex(input));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('it-length-prefixed reads what our varint encoder writes', () => {
    fc.assert(
      fc.property(payloads, (input) => {
        const encoder = new LengthFieldEncoder({ lengthFieldLength: 'varint' });
        const chunks = input.flatMap((p) => encoder.encode(p));
        const decoded = [...lp.decode(chunks)].map((list) => list.subarray());
        expect(hex(decoded)).toEqual(hex(input));
      }),
      { numRuns: 100 },
    );
  });

  it('our varint decoder reads what length-prefixed-stream writes', async () => {
    const input = Array.from({ length: 300 }, (_, i) => Buffer.alloc((i * 37) % 1000, i));
    const encoder = lps.encode();
    const written = collect(encoder);
    for (const p of input) encoder.write(p);
    encoder.end();
    const stream = Buffer.concat(await written);
    const frames = decodeAll(new LengthFieldDecoder({ lengthFieldLength: 'varint' }), [stream]);
    expect(hex(frames)).toEqual(hex(input));
  });

  it('length-prefixed-stream reads what our encoder writes', async () => {
    const input = Array.from({ length: 300 }, (_, i) => Buffer.alloc((i * 53) % 1000, i));
    const encoder = new LengthFieldEncoder({ lengthFieldLength: 'varint' });
    // allowEmpty puts its readable side in object mode: one message per chunk, empty ones included.
    const source = Readable.from(input.flatMap((p) => encoder.encode(p)));
    const decoded = await collect(source.pipe(lps.decode({ allowEmpty: true })));
    expect(hex(decoded)).toEqual(hex(input));
  });
});

describe('LineDecoder agrees with split2', () => {
  it('random text with \\n, \\r\\n and lone \\r, random chunking', async () => {
    const alphabet = fc.constantFrom('a', 'b', 'é', ' ', '\n', '\r', '\r\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { maxLength: 300 }).map((parts) => `${parts.join('')}\n`),
        fc.array(fc.nat(2000), { maxLength: 20 }),
        async (textInput, rawCuts) => {
          const bytes = Buffer.from(textInput, 'utf8');
          const cuts = [...new Set(rawCuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = isolate(cutAt(bytes, cuts)).map((c) => Buffer.from(c));
          const ours = decodeAll(new LineDecoder(), chunks).map((f) => Buffer.from(f).toString('utf8'));
          const theirs = (await collect(Readable.from(chunks).pipe(split2()))).map(String);
          expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 200 },
    );
  });
});

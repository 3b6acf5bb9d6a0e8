import { describe, expect, it } from 'vitest';
import { LengthFieldDecoder, type LengthFieldDecoderOptions } from './length-field-decoder.js';
import { concat, decodeAll, everyChunking, hex, isolate, text } from './test-chunking.js';

// The worked examples of Netty's LengthFieldBasedFrameDecoder javadoc, byte for byte.
const HELLO = text('HELLO, WORLD');
const b = (...bytes: number[]) => Uint8Array.from(bytes);

interface Example {
  name: string;
  options: LengthFieldDecoderOptions;
  before: Uint8Array;
  after: Uint8Array;
}

const examples: Example[] = [
  {
    name: '2-byte length at offset 0, header kept',
    options: { lengthFieldLength: 2 },
    before: concat([b(0x00, 0x0c), HELLO]),
    after: concat([b(0x00, 0x0c), HELLO]),
  },
  {
    name: '2-byte length at offset 0, header stripped',
    options: { lengthFieldLength: 2, initialBytesToStrip: 2 },
    before: concat([b(0x00, 0x0c), HELLO]),
    after: HELLO,
  },
  {
    name: '2-byte length counting the whole message',
    options: { lengthFieldLength: 2, lengthAdjustment: -2 },
    before: concat([b(0x00, 0x0e), HELLO]),
    after: concat([b(0x00, 0x0e), HELLO]),
  },
  {
    name: '3-byte length at the end of a 5-byte header',
    options: { lengthFieldOffset: 2, lengthFieldLength: 3 },
    before: concat([b(0xca, 0xfe, 0x00, 0x00, 0x0c), HELLO]),
    after: concat([b(0xca, 0xfe, 0x00, 0x00, 0x0c), HELLO]),
  },
  {
    name: '3-byte length at the start of a 5-byte header',
    options: { lengthFieldLength: 3, lengthAdjustment: 2 },
    before: concat([b(0x00, 0x00, 0x0c, 0xca, 0xfe), HELLO]),
    after: concat([b(0x00, 0x00, 0x0c, 0xca, 0xfe), HELLO]),
  },
  {
    name: '2-byte length at offset 1 of a 4-byte header, HDR1 and length stripped',
    options: { lengthFieldOffset: 1, lengthFieldLength: 2, lengthAdjustment: 1, initialBytesToStrip: 3 },
    before: concat([b(0xca, 0x00, 0x0c, 0xfe), HELLO]),
    after: concat([b(0xfe), HELLO]),
  },
  {
    name: 'same, the length counting the whole message',
    options: { lengthFieldOffset: 1, lengthFieldLength: 2, lengthAdjustment: -3, initialBytesToStrip: 3 },
    before: concat([b(0xca, 0x00, 0x10, 0xfe), HELLO]),
    after: concat([b(0xfe), HELLO]),
  },
];

describe('LengthFieldDecoder: the examples of Netty’s javadoc', () => {
  for (const example of examples) {
    it(`${example.name}: one frame under every chunking`, () => {
      let chunkings = 0;
      for (const chunks of everyChunking(example.before)) {
        const frames = decodeAll(new LengthFieldDecoder(example.options), isolate(chunks));
        expect(hex(frames)).toEqual(hex([example.after]));
        chunkings++;
      }
      expect(chunkings).toBeGreaterThan(example.before.length);
    });

    it(`${example.name}: three frames back to back under every two-way split`, () => {
      const stream = concat([example.before, example.before, example.before]);
      for (const chunks of everyChunking(stream)) {
        const frames = decodeAll(new LengthFieldDecoder(example.options), isolate(chunks));
        expect(hex(frames)).toEqual(hex([example.after, example.after, example.after]));
      }
    });
  }

  it('a frame inside one chunk is a view of it; a frame spanning chunks is a copy of exactly its size', () => {
    const stream = concat([b(0x00, 0x0c), HELLO, b(0x00, 0x0c), HELLO]);
    const [first, second] = isolate([stream.subarray(0, 20), stream.subarray(20)]);
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 2, initialBytesToStrip: 2 });
    const [view] = decoder.push(first!);
    expect(view!.buffer).toBe(first!.buffer);
    expect(view!.byteOffset).toBe(2);
    const [copy] = decoder.push(second!);
    expect(copy!.buffer).not.toBe(first!.buffer);
    expect(copy!.buffer).not.toBe(second!.buffer);
    expect(copy!.buffer.byteLength).toBe(12);
    expect(Buffer.from(copy!).toString()).toBe('HELLO, WORLD');
    // Views and copies are both plain Uint8Arrays, whatever the input: frames never change type.
    expect(Object.getPrototypeOf(view)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(copy)).toBe(Uint8Array.prototype);
    decoder.end();
  });
});

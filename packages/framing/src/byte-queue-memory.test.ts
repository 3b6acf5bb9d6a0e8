import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.js';
import { LengthFieldDecoder } from './length-field-decoder.js';

describe('ByteQueue', () => {
  it('a frame trickling in as 1-byte chunks is held in a few staging buffers, not one object per byte', () => {
    const queue = new ByteQueue();
    for (let i = 0; i < 100_000; i++) queue.append(Uint8Array.of(i & 0xff));
    expect(queue.length).toBe(100_000);
    expect(queue.pieces).toBeLessThanOrEqual(Math.ceil(100_000 / (16 * 1024)) + 1);
    const all = new Uint8Array(100_000);
    expect(queue.copyTo(all, 0, 0)).toBe(100_000);
    expect(all.every((b, i) => b === (i & 0xff))).toBe(true);
  });

  it('big chunks are referenced, not copied', () => {
    const queue = new ByteQueue();
    const big = new Uint8Array(4096);
    queue.append(Uint8Array.of(1));
    queue.append(big);
    big[0] = 9; // visible through the queue: it holds the chunk itself
    expect(queue.byteAt(1)).toBe(9);
    expect(queue.pieces).toBe(2);
  });

  it('behaves like a plain byte array under any mix of appends and consumes', () => {
    const op = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }).map((bytes) => ({ kind: 'append' as const, bytes })),
      fc.nat(4000).map((count) => ({ kind: 'consume' as const, count })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const queue = new ByteQueue();
        let model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'append') {
            queue.append(Uint8Array.from(o.bytes));
            model.push(...o.bytes);
          } else {
            const count = Math.min(o.count, model.length);
            queue.consume(count);
            model = model.slice(count);
          }
          expect(queue.length).toBe(model.length);
          if (model.length > 0) {
            expect(queue.byteAt(model.length - 1)).toBe(model.at(-1));
            expect(queue.byteAt(0)).toBe(model[0]);
            const from = Math.floor(model.length / 3);
            const to = Math.floor((2 * model.length) / 3) + 1;
            const part = new Uint8Array(to - from);
            expect(queue.copyTo(part, 0, from, to)).toBe(to - from);
            expect([...part]).toEqual(model.slice(from, to));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('a frame sent one byte per push', () => {
  it('arrives whole (held in staging buffers meanwhile)', () => {
    const size = 200_000;
    const decoder = new LengthFieldDecoder({ lengthFieldLength: 4, initialBytesToStrip: 4 });
    const header = Uint8Array.of(0, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
    const bytes = new Uint8Array(4 + size);
    bytes.set(header);
    for (let i = 0; i < size; i++) bytes[4 + i] = i % 251;
    let frames: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) frames = frames.concat(decoder.push(bytes.slice(i, i + 1)));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.length).toBe(size);
    expect(frames[0]!.every((b, i) => b === i % 251)).toBe(true);
    decoder.end();
  });
});

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import { describe, expect, it } from 'vitest';
import { decodeStream } from './decode-stream.js';
import { encodeStream } from './encode-stream.js';
import { FrameTooLongError, TruncatedFrameError } from './errors.js';
import { frames } from './frames-iterable.js';
import { LengthFieldDecoder } from './length-field-decoder.js';
import { LengthFieldEncoder } from './length-field-encoder.js';
import { LineDecoder } from './line-decoder.js';
import { decoderTransformStream, encoderTransformStream } from './web-transform-stream.js';

const lines = (n: number, from = 0) =>
  Buffer.from(Array.from({ length: n }, (_, i) => `L${from + i}\n`).join(''));

describe('decodeStream', () => {
  it('applies backpressure: a chunk is decoded only when the frames of the previous one were read', async () => {
    const stream = decodeStream(new LineDecoder(), { highWaterMark: 1 });
    for (let i = 0; i < 10; i++) stream.write(lines(10, i * 10));
    await new Promise((resolve) => setImmediate(resolve));
    // Only the first chunk was decoded; the other nine wait on the writable side.
    expect(stream.readableLength).toBe(10);
    expect(stream.writableLength).toBeGreaterThan(0);
    stream.end();
    const got: string[] = [];
    for await (const frame of stream) got.push(Buffer.from(frame).toString());
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `L${i}`));
  });

  it('errors with TruncatedFrameError when the input ends inside a frame', async () => {
    const got: string[] = [];
    const stream = decodeStream(new LineDecoder());
    stream.on('data', (frame) => got.push(Buffer.from(frame).toString()));
    await expect(pipeline(Readable.from([Buffer.from('a\nb')]), stream)).rejects.toBeInstanceOf(
      TruncatedFrameError,
    );
    expect(got).toEqual(['a']);
  });

  it('emits the frames decoded before a too-long frame, then errors', async () => {
    const got: string[] = [];
    const stream = decodeStream(new LineDecoder({ maxFrameLength: 3 }));
    stream.on('data', (frame) => got.push(Buffer.from(frame).toString()));
    await expect(
      pipeline(Readable.from([Buffer.from('ab\ncd\ntoolong\nx\n')]), stream),
    ).rejects.toBeInstanceOf(FrameTooLongError);
    expect(got.slice(0, 2)).toEqual(['ab', 'cd']);
  });

  it('round-trips through encodeStream', async () => {
    const payloads = Array.from({ length: 500 }, (_, i) => Buffer.alloc(i, i));
    const got: Buffer[] = [];
    const decoder = decodeStream(new LengthFieldDecoder({ lengthFieldLength: 2, initialBytesToStrip: 2 }));
    decoder.on('data', (frame: Uint8Array) => got.push(Buffer.from(frame)));
    await pipeline(
      Readable.from(payloads),
      encodeStream(new LengthFieldEncoder({ lengthFieldLength: 2 })),
      decoder,
    );
    expect(got.map((b) => b.toString('hex'))).toEqual(payloads.map((b) => b.toString('hex')));
  });

  it('encodeStream errors when a payload does not fit the length field', async () => {
    const encoder = encodeStream(new LengthFieldEncoder({ lengthFieldLength: 1 }));
    encoder.resume();
    await expect(pipeline(Readable.from([Buffer.alloc(300)]), encoder)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('frames()', () => {
  it('yields the frames before an error, then throws it', async () => {
    const got: string[] = [];
    const source = Readable.from([Buffer.from('ok\n'), Buffer.from('fine\nway too long\n')]);
    await expect(
      (async () => {
        for await (const frame of frames(source, new LineDecoder({ maxFrameLength: 5 })))
          got.push(Buffer.from(frame).toString());
      })(),
    ).rejects.toBeInstanceOf(FrameTooLongError);
    expect(got).toEqual(['ok', 'fine']);
  });

  it('leaving the loop early destroys the source stream', async () => {
    const source = Readable.from([lines(5), lines(5)]);
    for await (const frame of frames(source, new LineDecoder())) {
      expect(Buffer.from(frame).toString()).toBe('L0');
      break;
    }
    expect(source.destroyed).toBe(true);
  });
});

describe('WHATWG TransformStream adapters', () => {
  it('decodes a ReadableStream of bytes into frames and round-trips the encoder', async () => {
    const payloads = ['alpha', '', 'gamma'].map((s) => new TextEncoder().encode(s));
    const encoded = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of payloads) controller.enqueue(p);
        controller.close();
      },
    })
      .pipeThrough(encoderTransformStream(new LengthFieldEncoder({ lengthFieldLength: 'varint' })))
      .pipeThrough(decoderTransformStream(new LengthFieldDecoder({ lengthFieldLength: 'varint' })));
    const got: string[] = [];
    for await (const frame of encoded) got.push(new TextDecoder().decode(frame));
    expect(got).toEqual(['alpha', '', 'gamma']);
  });

  it('errors the stream with TruncatedFrameError when the bytes end inside a frame', async () => {
    const readable = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('a\nb'));
        controller.close();
      },
    }).pipeThrough(decoderTransformStream(new LineDecoder()));
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const frame of readable) got.push(new TextDecoder().decode(frame));
      })(),
    ).rejects.toBeInstanceOf(TruncatedFrameError);
    expect(got).toEqual(['a']);
  });
});

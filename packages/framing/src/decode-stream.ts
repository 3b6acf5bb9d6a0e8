// Node stream adapter: bytes in, frames out. Backpressure is Transform's own: when the frame side is full
// (readableHighWaterMark frames), the callback of the write is held until the reader drains it, so the
// writable side stops accepting bytes and a socket piped into it stops being read.

import { Transform } from 'node:stream';
import { FramingError } from './errors.js';
import type { FrameDecoder } from './frame-decoder.js';

/** Options of {@link decodeStream}. */
export interface DecodeStreamOptions {
  /** Frames buffered on the readable side before backpressure. Default 16 (Node's object-mode default). */
  highWaterMark?: number;
}

/**
 * A `Transform` whose writable side takes bytes and whose readable side (object mode) emits frames.
 *
 * A decoder error destroys the stream with that error, after the frames decoded before it were emitted;
 * a stream that ends inside a frame errors with `TruncatedFrameError`.
 *
 * ```ts
 * socket.pipe(decodeStream(new LengthFieldDecoder({ lengthFieldLength: 4, initialBytesToStrip: 4 })))
 *   .on('data', (frame: Uint8Array) => handle(frame));
 * ```
 */
export function decodeStream<F = Uint8Array>(
  decoder: FrameDecoder<F>,
  options: DecodeStreamOptions = {},
): Transform {
  return new Transform({
    readableObjectMode: true,
    readableHighWaterMark: options.highWaterMark ?? 16,
    transform(chunk: Buffer, _encoding, callback) {
      let frames: F[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        if (error instanceof FramingError) for (const frame of error.frames) this.push(frame);
        callback(error as Error);
        return;
      }
      for (let i = 0; i < frames.length; i++) this.push(frames[i]);
      callback();
    },
    flush(callback) {
      // biome-ignore lint/suspicious/noConfusingVoidType: what FrameDecoder.end() returns.
      let last: F[] | void;
      try {
        last = decoder.end();
      } catch (error) {
        callback(error as Error);
        return;
      }
      if (last) for (const frame of last) this.push(frame);
      callback();
    },
  });
}

// WHATWG streams adapter, for code written against web streams (fetch bodies, Deno-style APIs).

import { TransformStream } from 'node:stream/web';
import { FramingError } from './errors.js';
import type { FrameDecoder, FrameEncoder } from './frame-decoder.js';

/**
 * A WHATWG `TransformStream` from bytes to frames. A decoder error errors both sides of the stream after
 * the frames before it were enqueued.
 *
 * ```ts
 * const lines = body.pipeThrough(decoderTransformStream(new LineDecoder()));
 * ```
 */
export function decoderTransformStream<F = Uint8Array>(
  decoder: FrameDecoder<F>,
): TransformStream<Uint8Array, F> {
  return new TransformStream<Uint8Array, F>({
    transform(chunk, controller) {
      let decoded: F[];
      try {
        decoded = decoder.push(chunk);
      } catch (error) {
        if (error instanceof FramingError) for (const frame of error.frames) controller.enqueue(frame as F);
        throw error;
      }
      for (let i = 0; i < decoded.length; i++) controller.enqueue(decoded[i]!);
    },
    flush(controller) {
      const last = decoder.end();
      if (last) for (const frame of last) controller.enqueue(frame);
    },
  });
}

/** A WHATWG `TransformStream` from payloads to encoded bytes (the parts of each frame, not copied). */
export function encoderTransformStream(encoder: FrameEncoder): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(payload, controller) {
      for (const part of encoder.encode(payload)) controller.enqueue(part);
    },
  });
}

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
export function decoderTransformStream(decoder: FrameDecoder): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      let decoded: Uint8Array[];
      try {
        decoded = decoder.push(chunk);
      } catch (error) {
        if (error instanceof FramingError) for (const frame of error.frames) controller.enqueue(frame);
        throw error;
      }
      for (let i = 0; i < decoded.length; i++) controller.enqueue(decoded[i]!);
    },
    flush() {
      decoder.end();
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

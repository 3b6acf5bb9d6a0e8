// Async-iterable adapter: `for await (const frame of frames(socket, decoder))`. Pulling is the
// backpressure: the source is read only when the loop asks for more frames than are already decoded.

import { FramingError } from './errors.js';
import type { FrameDecoder } from './frame-decoder.js';

/**
 * Yields the frames of a byte source (a `net.Socket`, any Node `Readable`, or any async iterable of
 * `Uint8Array`). Decoder errors are thrown from the loop after the frames before them were yielded; a
 * source that ends inside a frame throws `TruncatedFrameError`. Leaving the loop early (`break`) ends
 * the iteration of the source, which destroys a Node stream.
 */
export async function* frames<F = Uint8Array>(
  source: AsyncIterable<Uint8Array>,
  decoder: FrameDecoder<F>,
): AsyncGenerator<F, void, undefined> {
  for await (const chunk of source) {
    let decoded: F[];
    try {
      decoded = decoder.push(chunk);
    } catch (error) {
      if (error instanceof FramingError) yield* error.frames as F[];
      throw error;
    }
    yield* decoded;
  }
  const last = decoder.end();
  if (last) yield* last;
}

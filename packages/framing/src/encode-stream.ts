// Node stream adapter: payloads in, bytes out. The encoder's parts are pushed as they are, so payloads are
// not copied on their way to the socket.

import { Transform } from 'node:stream';
import type { FrameEncoder } from './frame-decoder.js';

/**
 * A `Transform` whose writable side (object mode) takes payloads (`Uint8Array`) and whose readable side
 * emits the encoded bytes. An encoder error (e.g. a payload too long for the length field) destroys the
 * stream with that error.
 *
 * ```ts
 * const out = encodeStream(new LengthFieldEncoder({ lengthFieldLength: 4 }));
 * out.pipe(socket);
 * out.write(payload);
 * ```
 */
export function encodeStream(encoder: FrameEncoder): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(payload: Uint8Array, _encoding, callback) {
      let parts: Uint8Array[];
      try {
        parts = encoder.encode(payload);
      } catch (error) {
        callback(error as Error);
        return;
      }
      for (let i = 0; i < parts.length; i++) this.push(parts[i]);
      callback();
    },
  });
}

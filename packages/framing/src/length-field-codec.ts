// One options object, two matching sides. Configuring LengthFieldEncoder and LengthFieldDecoder apart is
// where peers disagree (a 2-byte field on one side, 4 on the other; the adjustment negated on one side
// only), and such a mismatch shows up as garbage frames far from its cause.

import type { FrameDecoder, FrameEncoder } from './frame-decoder.js';
import { LengthFieldDecoder } from './length-field-decoder.js';
import { LengthFieldEncoder, type LengthFieldEncoderOptions } from './length-field-encoder.js';

/** Options of {@link lengthFieldCodec}: the encoder's, plus the decoder's limits. */
export interface LengthFieldCodecOptions extends LengthFieldEncoderOptions {
  /**
   * Largest frame the decoder accepts, counted as on the wire (header included, as Netty). Default
   * {@link DEFAULT_MAX_FRAME_LENGTH}.
   */
  maxFrameLength?: number;
  /** See {@link LengthFieldDecoderOptions.failFast}. Default `true`. */
  failFast?: boolean;
}

/** An encoder and the decoder that reads exactly what it writes. */
export interface LengthFieldCodec {
  /** Writes `[header, payload]` per frame. */
  readonly encoder: FrameEncoder;
  /** Yields each payload, without its header. */
  readonly decoder: FrameDecoder;
}

/**
 * Builds a {@link LengthFieldEncoder} and the {@link LengthFieldDecoder} that matches it from one options
 * object: same field width and byte order, the adjustment negated, the header stripped.
 *
 * ```text
 * lengthFieldCodec({ lengthFieldLength: 2 })
 *   encoder.encode("HELLO")  →  | 0x0005 | "HELLO" |  →  decoder.push(…)  →  "HELLO"
 * ```
 *
 * Each call returns a new decoder (decoders hold one stream's state): call it once per connection.
 */
export function lengthFieldCodec(options: LengthFieldCodecOptions): LengthFieldCodec {
  const { lengthFieldLength, byteOrder, maxFrameLength, failFast } = options;
  const encoder = new LengthFieldEncoder(options);
  const varint = lengthFieldLength === 'varint';
  const width = varint ? 0 : lengthFieldLength;
  const adjustment = -(options.lengthAdjustment ?? 0) - (options.lengthIncludesLengthFieldLength ? width : 0);
  const decoder = new LengthFieldDecoder({
    lengthFieldLength,
    ...(byteOrder === undefined ? {} : { byteOrder }),
    ...(maxFrameLength === undefined ? {} : { maxFrameLength }),
    ...(failFast === undefined ? {} : { failFast }),
    ...(adjustment === 0 ? {} : { lengthAdjustment: adjustment }),
    // A varint decoder always yields frames without the varint; a fixed field is stripped explicitly.
    ...(varint ? {} : { initialBytesToStrip: width }),
  });
  return { encoder, decoder };
}

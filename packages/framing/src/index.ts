/**
 * `@iolab/framing` — cut a TCP byte stream back into messages.
 *
 * Sans-I/O decoders (`push(bytes) → frames`, `end()`), encoders (`encode(payload) → parts to write`),
 * and adapters to Node streams, async iterables and WHATWG streams.
 *
 * @packageDocumentation
 */

export { type DecodeStreamOptions, decodeStream } from './decode-stream.js';
export { type Delimiter, DelimiterDecoder, type DelimiterDecoderOptions } from './delimiter-decoder.js';
export { DelimiterEncoder, type DelimiterEncoderOptions } from './delimiter-encoder.js';
export { encodeStream } from './encode-stream.js';
export {
  CorruptFrameError,
  FrameTooLongError,
  FramingError,
  type FramingErrorCode,
  TruncatedFrameError,
} from './errors.js';
export { FixedLengthDecoder, type FixedLengthDecoderOptions } from './fixed-length-decoder.js';
export { DEFAULT_MAX_FRAME_LENGTH, type FrameDecoder, type FrameEncoder } from './frame-decoder.js';
export { frames } from './frames-iterable.js';
export {
  type LengthFieldCodec,
  type LengthFieldCodecOptions,
  lengthFieldCodec,
} from './length-field-codec.js';
export {
  type ByteOrder,
  LengthFieldDecoder,
  type LengthFieldDecoderOptions,
  type LengthFieldLength,
} from './length-field-decoder.js';
export { LengthFieldEncoder, type LengthFieldEncoderOptions } from './length-field-encoder.js';
export { LineDecoder, type LineDecoderOptions, type LineEncoding, type LineOf } from './line-decoder.js';
export { decoderTransformStream, encoderTransformStream } from './web-transform-stream.js';

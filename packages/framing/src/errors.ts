// Every error a decoder raises for bad input. Each has a stable `code` that callers can switch on and
// the stream byte offset at which the offending frame starts, so a log line points at the exact byte.

/** Stable codes of the errors raised by `@iolab/framing` decoders. */
export type FramingErrorCode = 'IOLAB_FRAME_TOO_LONG' | 'IOLAB_FRAME_CORRUPT' | 'IOLAB_FRAME_TRUNCATED';

/**
 * Base class of the decoder errors.
 *
 * `push()` throws instead of returning frames, but the frames that push completed are not lost: they are
 * in {@link FramingError.frames}, in stream order, and should be delivered before the error is handled.
 */
export abstract class FramingError<F = Uint8Array> extends Error {
  abstract readonly code: FramingErrorCode;
  /** Stream byte offset (counted from the first byte ever pushed) where the offending frame starts. */
  readonly offset: number;
  /**
   * Frames completed by the same `push()` call, in stream order. For {@link FrameTooLongError}: all of
   * them, including frames after the discarded one (decoding went on past it). For
   * {@link CorruptFrameError}: the frames before the corrupt one. Of the decoder's frame type: strings for a
   * `LineDecoder` with an `encoding`.
   */
  frames: F[] = [];

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * A frame is longer than the decoder's `maxFrameLength`.
 *
 * Recoverable: the decoder discards that frame (without buffering it) and continues with the next one, as
 * Netty does. With `failFast` the error is raised as soon as the length is known; otherwise once the whole
 * oversize frame has gone by.
 */
export class FrameTooLongError<F = Uint8Array> extends FramingError<F> {
  readonly code = 'IOLAB_FRAME_TOO_LONG' as const;
  /**
   * Length of the frame as far as it is known: the exact length when a length field announced it or a
   * delimiter ended it, otherwise a lower bound.
   */
  readonly frameLength: number;
  readonly maxFrameLength: number;

  constructor(offset: number, frameLength: number, maxFrameLength: number, exact = true) {
    super(
      `frame at byte ${offset} is ${exact ? '' : 'at least '}${frameLength} bytes, over maxFrameLength ${maxFrameLength}`,
      offset,
    );
    this.frameLength = frameLength;
    this.maxFrameLength = maxFrameLength;
  }
}

/**
 * The length field cannot be right: negative after `lengthAdjustment`, shorter than the bytes that
 * `initialBytesToStrip` removes, a varint longer than 10 bytes or not minimally encoded, or beyond 2^53.
 *
 * Fatal: the decoder no longer knows where the next frame starts, so it is poisoned — every later `push()`
 * or `end()` throws this same error. Close the connection.
 */
export class CorruptFrameError<F = Uint8Array> extends FramingError<F> {
  readonly code = 'IOLAB_FRAME_CORRUPT' as const;
}

/** The stream ended (`end()`) in the middle of a frame. The buffered bytes are dropped. */
export class TruncatedFrameError<F = Uint8Array> extends FramingError<F> {
  readonly code = 'IOLAB_FRAME_TRUNCATED' as const;
  /** How many bytes of the unfinished frame had arrived. */
  readonly receivedBytes: number;

  constructor(offset: number, receivedBytes: number) {
    super(
      `stream ended inside a frame: ${receivedBytes} bytes of the frame at byte ${offset} arrived`,
      offset,
    );
    this.receivedBytes = receivedBytes;
  }
}

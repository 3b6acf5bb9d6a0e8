// The contract every decoder in this package keeps, written down once.
//
// A decoder is sans-I/O: it is fed bytes and hands back frames. It never reads a socket, starts a timer or
// waits. When the bytes buffered so far do not complete a frame it returns nothing and keeps them (by
// reference, not by copy) until the next push() — "not enough bytes yet" is a normal answer, not an error.

/**
 * Largest frame a decoder accepts unless told otherwise: 8 MiB.
 *
 * Why this number: twice the 4 MiB that gRPC and it-length-prefixed accept by default, so ordinary RPC
 * payloads pass, while a server with 100 slow peers each parked one byte short of a maximal frame holds
 * under 1 GiB. Raise it per decoder when your protocol really sends bigger messages.
 */
export const DEFAULT_MAX_FRAME_LENGTH = 8 * 1024 * 1024;

/**
 * What every decoder in this package implements; the stream adapters accept any object of this shape.
 *
 * Ownership: a returned frame may be a view (`subarray`) of a chunk you pushed, and the decoder may keep
 * references to pushed chunks until their frame is complete. Do not modify a chunk after pushing it; copy
 * a frame (`frame.slice()`) if you keep it longer than its chunk's owner allows.
 */
export interface FrameDecoder<F = Uint8Array> {
  /**
   * Feed the next bytes of the stream. Returns every frame completed by them, in stream order — possibly
   * none. Throws a {@link FramingError} on bad input; frames completed before the bad input are on the
   * error's `frames`.
   */
  push(chunk: Uint8Array): F[];
  /**
   * The stream ended. Throws {@link TruncatedFrameError} if part of a frame is still buffered (rather than
   * silently dropping it, as Netty and most Node peers do), unless the decoder was told to hand that tail
   * over as a last frame (`LineDecoder`'s `emitTrailing`), which it then returns. Afterwards the decoder
   * is empty and may be reused for a new stream, with offsets counted from 0 again.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: decoders without a trailing frame keep `end(): void`.
  end(): F[] | void;
}

/** What every encoder in this package implements. */
export interface FrameEncoder {
  /** The byte arrays to write, in order, for one frame carrying `payload`. */
  encode(payload: Uint8Array): Uint8Array[];
}

export function checkMaxFrameLength(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_FRAME_LENGTH;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`maxFrameLength must be a positive safe integer, got ${value}`);
  }
  return value;
}

export function checkNonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

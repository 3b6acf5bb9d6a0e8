// Cuts a byte stream into frames of one fixed size, as Netty's FixedLengthFrameDecoder.

import { ByteQueue } from './byte-queue.js';
import { TruncatedFrameError } from './errors.js';
import { checkMaxFrameLength, type FrameDecoder } from './frame-decoder.js';

/** Options of {@link FixedLengthDecoder}. */
export interface FixedLengthDecoderOptions {
  /** Size of every frame, in bytes (≥ 1). */
  frameLength: number;
  /**
   * Upper bound for `frameLength`, checked in the constructor so a configuration value cannot make the
   * decoder buffer more than intended. Default {@link DEFAULT_MAX_FRAME_LENGTH}.
   */
  maxFrameLength?: number;
}

/**
 * Decodes frames of `frameLength` bytes.
 *
 * ```text
 * frameLength = 3
 * BEFORE DECODE (4 chunks)              AFTER DECODE (3 frames)
 * +---+----+-----+----+                 +-----+-----+-----+
 * | A | BC | DEF | GHI|---------------->| ABC | DEF | GHI |
 * +---+----+-----+----+                 +-----+-----+-----+
 * ```
 *
 * Frames within one chunk are views of it; a frame spanning chunks is copied once.
 */
export class FixedLengthDecoder implements FrameDecoder {
  readonly #frameLength: number;
  readonly #queue = new ByteQueue();
  #frameStart = 0;
  #received = 0;

  constructor(options: FixedLengthDecoderOptions) {
    const max = checkMaxFrameLength(options.maxFrameLength);
    const { frameLength } = options;
    if (!Number.isSafeInteger(frameLength) || frameLength < 1 || frameLength > max) {
      throw new RangeError(`frameLength must be an integer in [1, ${max}], got ${frameLength}`);
    }
    this.#frameLength = frameLength;
  }

  /**
   * Bytes of the unfinished frame held right now (by reference to the pushed chunks): always less than
   * `frameLength`. Use it for per-connection memory metrics.
   */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** Feeds the next bytes; returns the frames they complete. See {@link FrameDecoder.push}. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    const size = this.#frameLength;
    const n = chunk.length;
    const chunkStart = this.#received;
    this.#received += n;
    const queue = this.#queue;
    let pos = 0;
    if (queue.length > 0) {
      const buffered = queue.length;
      const need = size - buffered;
      if (n < need) {
        queue.append(chunk);
        return out;
      }
      out.push(queue.copyFrame(chunk, 0, size));
      queue.clear();
      pos = need;
    }
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    for (; n - pos >= size; pos += size) out.push(new Uint8Array(buffer, base + pos, size));
    if (pos < n) {
      this.#frameStart = chunkStart + pos;
      queue.append(chunk.subarray(pos));
    }
    return out;
  }

  /** The stream ended. See {@link FrameDecoder.end}. */
  end(): void {
    const buffered = this.#queue.length;
    this.#queue.clear();
    this.#received = 0;
    if (buffered > 0) throw new TruncatedFrameError(this.#frameStart, buffered);
  }
}

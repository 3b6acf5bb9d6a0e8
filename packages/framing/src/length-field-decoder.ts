// Cuts frames whose header carries their length, with the options and semantics of Netty's
// LengthFieldBasedFrameDecoder. The length field is untrusted: it decides how many bytes to wait for,
// never how many to allocate. Bytes are buffered as references to the chunks they came in and copied once,
// when the frame is complete.

import { allocFrame, ByteQueue } from './byte-queue.js';
import { CorruptFrameError, FrameTooLongError, TruncatedFrameError } from './errors.js';
import { checkMaxFrameLength, checkNonNegativeInteger, type FrameDecoder } from './frame-decoder.js';

/** Width of the length field in bytes, or `'varint'` for unsigned LEB128 (protobuf, it-length-prefixed). */
export type LengthFieldLength = 1 | 2 | 3 | 4 | 8 | 'varint';

/** Byte order of a fixed-width length field. */
export type ByteOrder = 'BE' | 'LE';

/** Options of {@link LengthFieldDecoder}; the names and defaults are Netty's. */
export interface LengthFieldDecoderOptions {
  /** Width of the length field, or `'varint'`. */
  lengthFieldLength: LengthFieldLength;
  /** Bytes before the length field (a magic number, a type byte…). Default 0; must be 0 with `'varint'`. */
  lengthFieldOffset?: number;
  /**
   * Added to the length field's value to get the number of bytes that follow the length field. Use it when
   * the field counts the whole frame (e.g. `-4` for a 4-byte field that includes itself) or when more
   * header fields sit between the length field and the content. Default 0.
   */
  lengthAdjustment?: number;
  /**
   * Bytes removed from the start of every decoded frame, e.g. the header. Default 0 (frames keep their
   * header, as in Netty). Not allowed with `'varint'`: there frames always come without the varint.
   */
  initialBytesToStrip?: number;
  /** Byte order of a fixed-width length field. Default `'BE'` (network order). */
  byteOrder?: ByteOrder;
  /**
   * Largest accepted frame, counting the whole frame as it is on the wire, header included (as Netty).
   * Default {@link DEFAULT_MAX_FRAME_LENGTH}.
   */
  maxFrameLength?: number;
  /**
   * `true` (default, as Netty): raise {@link FrameTooLongError} from the `push()` that delivers the length
   * field of an oversize frame. `false`: raise it from the `push()` in which the oversize frame's last byte
   * goes by. Either way the frame is discarded without being buffered and decoding resumes after it.
   */
  failFast?: boolean;
}

// A 64-bit value needs at most 10 LEB128 groups of 7 bits; anything longer is garbage, not a big number.
const MAX_VARINT_BYTES = 10;
const TWO_POW_32 = 2 ** 32;

/**
 * Decodes frames prefixed by a length field. Every example of Netty's `LengthFieldBasedFrameDecoder`
 * javadoc holds; two of them:
 *
 * ```text
 * lengthFieldLength = 2, lengthAdjustment = 0, initialBytesToStrip = 2
 * BEFORE DECODE (14 bytes)         AFTER DECODE (12 bytes)
 * +--------+----------------+      +----------------+
 * | Length | Actual Content |----->| Actual Content |
 * | 0x000C | "HELLO, WORLD" |      | "HELLO, WORLD" |
 * +--------+----------------+      +----------------+
 *
 * lengthFieldOffset = 1, lengthFieldLength = 2, lengthAdjustment = 1, initialBytesToStrip = 3
 * BEFORE DECODE (16 bytes)                       AFTER DECODE (13 bytes)
 * +------+--------+------+----------------+      +------+----------------+
 * | HDR1 | Length | HDR2 | Actual Content |----->| HDR2 | Actual Content |
 * | 0xCA | 0x000C | 0xFE | "HELLO, WORLD" |      | 0xFE | "HELLO, WORLD" |
 * +------+--------+------+----------------+      +------+----------------+
 * ```
 *
 * With `lengthFieldLength: 'varint'` the field is an unsigned LEB128 (as it-length-prefixed and
 * protobuf's delimited messages) and frames come without it:
 *
 * ```text
 * BEFORE DECODE (302 bytes)        AFTER DECODE (300 bytes)
 * +-----------+----------------+   +----------------+
 * | 0xAC 0x02 | 300 bytes      |-->| 300 bytes      |
 * +-----------+----------------+   +----------------+
 * ```
 *
 * Frames lying inside one pushed chunk are views of it; a frame spanning chunks is copied once into a
 * buffer of exactly its size. Errors: a frame over `maxFrameLength` raises {@link FrameTooLongError} and is
 * skipped; an impossible length raises {@link CorruptFrameError} and poisons the decoder.
 */
export class LengthFieldDecoder implements FrameDecoder {
  readonly #varint: boolean;
  readonly #fieldLength: number;
  readonly #fieldOffset: number;
  readonly #fieldEnd: number;
  readonly #adjustment: number;
  readonly #strip: number;
  readonly #littleEndian: boolean;
  readonly #max: number;
  readonly #failFast: boolean;
  // Header bytes that straddle chunks are gathered here; its size is fixed by the options, not the input.
  readonly #scratch: Uint8Array;

  readonly #queue = new ByteQueue();
  /** Whole length of the buffered frame once its header has been read, else -1. */
  #frameLength = -1;
  /** Bytes stripped from that frame. */
  #frameStrip = 0;
  /** Stream offset of the first buffered byte. */
  #frameStart = 0;
  /** Bytes pushed since construction or the last end(). */
  #received = 0;
  /** Bytes of an oversize frame still to skip. */
  #discard = 0;
  /** The oversize frame being skipped while #discard > 0. */
  #discarded: FrameTooLongError | undefined;
  /** Error to raise at the end of the current push(). */
  #pending: FrameTooLongError | undefined;
  #corrupt: CorruptFrameError | undefined;
  /** Header length of the frame parsed last (varint width, or the configured strip). */
  #headerStrip = 0;

  constructor(options: LengthFieldDecoderOptions) {
    const { lengthFieldLength, byteOrder = 'BE', failFast = true } = options;
    this.#varint = lengthFieldLength === 'varint';
    if (!this.#varint && ![1, 2, 3, 4, 8].includes(lengthFieldLength as number)) {
      throw new RangeError(
        `lengthFieldLength must be 1, 2, 3, 4, 8 or 'varint', got ${String(lengthFieldLength)}`,
      );
    }
    if (byteOrder !== 'BE' && byteOrder !== 'LE') {
      throw new RangeError(`byteOrder must be 'BE' or 'LE', got ${String(byteOrder)}`);
    }
    this.#fieldLength = this.#varint ? 0 : (lengthFieldLength as number);
    this.#fieldOffset = checkNonNegativeInteger('lengthFieldOffset', options.lengthFieldOffset ?? 0);
    this.#adjustment = options.lengthAdjustment ?? 0;
    if (!Number.isSafeInteger(this.#adjustment)) {
      throw new RangeError(`lengthAdjustment must be an integer, got ${this.#adjustment}`);
    }
    this.#strip = checkNonNegativeInteger('initialBytesToStrip', options.initialBytesToStrip ?? 0);
    if (this.#varint && (this.#fieldOffset !== 0 || options.initialBytesToStrip !== undefined)) {
      throw new RangeError(
        "with lengthFieldLength 'varint', lengthFieldOffset must be 0 and initialBytesToStrip unset",
      );
    }
    this.#littleEndian = byteOrder === 'LE';
    this.#max = checkMaxFrameLength(options.maxFrameLength);
    this.#failFast = failFast;
    this.#fieldEnd = this.#fieldOffset + this.#fieldLength;
    if (this.#fieldEnd > this.#max) {
      throw new RangeError(
        `maxFrameLength (${this.#max}) must be at least lengthFieldOffset + lengthFieldLength (${this.#fieldEnd})`,
      );
    }
    this.#scratch = new Uint8Array(this.#varint ? MAX_VARINT_BYTES : this.#fieldEnd);
  }

  /**
   * Bytes of the unfinished frame held right now (by reference to the pushed chunks). Never more than
   * about `maxFrameLength`, whatever a length field claims: use it for per-connection memory metrics.
   */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** Feeds the next bytes; returns the frames they complete. See {@link FrameDecoder.push}. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#corrupt !== undefined) throw this.#corrupt;
    const out: Uint8Array[] = [];
    try {
      this.#run(chunk, out);
    } catch (error) {
      if (error instanceof CorruptFrameError) {
        error.frames = out;
        this.#corrupt = error;
        this.#queue.clear();
        this.#pending = undefined;
      }
      throw error;
    }
    const tooLong = this.#pending;
    if (tooLong !== undefined) {
      this.#pending = undefined;
      tooLong.frames = out;
      throw tooLong;
    }
    return out;
  }

  /** The stream ended. See {@link FrameDecoder.end}. */
  end(): void {
    if (this.#corrupt !== undefined) throw this.#corrupt;
    const buffered = this.#queue.length;
    const start = this.#frameStart;
    const discarded = this.#discarded;
    const discardLeft = this.#discard;
    this.#queue.clear();
    this.#frameLength = -1;
    this.#received = 0;
    this.#discard = 0;
    this.#discarded = undefined;
    if (buffered > 0) throw new TruncatedFrameError(start, buffered);
    if (discarded !== undefined && discardLeft > 0) {
      throw new TruncatedFrameError(discarded.offset, discarded.frameLength - discardLeft);
    }
  }

  #run(chunk: Uint8Array, out: Uint8Array[]): void {
    const n = chunk.length;
    const chunkStart = this.#received;
    this.#received += n;
    let pos = 0;
    if (this.#discard > 0) {
      pos = Math.min(this.#discard, n);
      this.#discard -= pos;
      if (this.#discard === 0) {
        if (!this.#failFast) this.#pending ??= this.#discarded;
        this.#discarded = undefined;
      }
      if (pos === n) return;
    }
    if (this.#queue.length > 0) {
      pos = this.#completeBuffered(chunk, pos, out);
      if (pos < 0) return;
    }
    this.#decodeChunk(chunk, pos, chunkStart, out);
  }

  // Hot path: frames that start in this chunk, cut as views without copying.
  #decodeChunk(chunk: Uint8Array, pos: number, chunkStart: number, out: Uint8Array[]): void {
    const n = chunk.length;
    const max = this.#max;
    const varint = this.#varint;
    const adjustment = this.#adjustment;
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    let frameLength = -1;
    while (pos < n) {
      if (varint) {
        // The common case inlined: a one-byte varint, a valid length, the whole frame in this chunk.
        const first = chunk[pos]!;
        const payload = first + adjustment;
        if (first < 0x80 && payload >= 0 && payload < max && pos + 1 + payload <= n) {
          out.push(new Uint8Array(buffer, base + pos + 1, payload));
          pos += 1 + payload;
          continue;
        }
      }
      frameLength = this.#parseHeader(chunk, pos, n - pos, chunkStart + pos);
      if (frameLength < 0) break;
      if (frameLength > max) {
        pos = this.#skipTooLong(
          new FrameTooLongError(chunkStart + pos, frameLength, max),
          frameLength,
          pos,
          n,
        );
        frameLength = -1;
        continue;
      }
      if (frameLength > n - pos) break;
      const strip = this.#headerStrip;
      out.push(new Uint8Array(buffer, base + pos + strip, frameLength - strip));
      pos += frameLength;
      frameLength = -1;
    }
    if (pos < n) {
      this.#frameStart = chunkStart + pos;
      this.#frameLength = frameLength;
      this.#frameStrip = this.#headerStrip;
      this.#queue.append(pos === 0 ? chunk : chunk.subarray(pos));
    }
  }

  // Slow path: the frame started in an earlier chunk. Returns where the next frame starts in `chunk`, or
  // -1 when the whole chunk was buffered.
  #completeBuffered(chunk: Uint8Array, pos: number, out: Uint8Array[]): number {
    const queue = this.#queue;
    const buffered = queue.length;
    const available = buffered + chunk.length - pos;
    let frameLength = this.#frameLength;
    if (frameLength < 0) {
      // The header straddles chunks; it is short (≤ lengthFieldOffset + 8, or 10 for a varint).
      const scratch = this.#scratch;
      const have = Math.min(scratch.length, available);
      for (let i = 0; i < have; i++) {
        scratch[i] = i < buffered ? queue.byteAt(i) : chunk[pos + i - buffered]!;
      }
      frameLength = this.#parseHeader(scratch, 0, have, this.#frameStart);
      if (frameLength < 0) {
        queue.append(chunk.subarray(pos));
        return -1;
      }
      if (frameLength > this.#max) {
        queue.clear();
        const error = new FrameTooLongError(this.#frameStart, frameLength, this.#max);
        // Pretend the frame started `buffered` bytes before `pos`: those bytes are already gone.
        return this.#skipTooLong(error, frameLength - buffered, pos, chunk.length);
      }
      this.#frameLength = frameLength;
      this.#frameStrip = this.#headerStrip;
    }
    if (available < frameLength) {
      queue.append(pos === 0 ? chunk : chunk.subarray(pos));
      return -1;
    }
    const strip = this.#frameStrip;
    const frame = allocFrame(frameLength - strip);
    const written = strip < buffered ? queue.copyTo(frame, 0, strip) : 0;
    const end = pos + frameLength - buffered;
    frame.set(chunk.subarray(pos + Math.max(0, strip - buffered), end), written);
    queue.clear();
    this.#frameLength = -1;
    out.push(frame);
    return end;
  }

  // Skips `remaining` bytes of an oversize frame starting at chunk[pos]; returns where decoding resumes.
  #skipTooLong(error: FrameTooLongError, remaining: number, pos: number, n: number): number {
    const here = n - pos;
    if (remaining <= here) {
      this.#pending ??= error;
      return pos + remaining;
    }
    this.#discard = remaining - here;
    this.#discarded = error;
    if (this.#failFast) this.#pending ??= error;
    return n;
  }

  // Reads the header at bytes[pos]. Returns the whole frame length and sets #headerStrip, or -1 when
  // fewer than `available` bytes do not hold the whole header yet. Throws CorruptFrameError.
  #parseHeader(bytes: Uint8Array, pos: number, available: number, offset: number): number {
    if (this.#varint) {
      let first = bytes[pos]!;
      if (available > 0 && first < 0x80) {
        const payload = first + this.#adjustment;
        if (payload < 0) throw negativeLength(offset, payload);
        this.#headerStrip = 1;
        return 1 + payload;
      }
      let value = 0;
      let scale = 1;
      let i = 0;
      for (;;) {
        if (i === MAX_VARINT_BYTES) {
          throw new CorruptFrameError(`varint length at byte ${offset} is longer than 10 bytes`, offset);
        }
        if (i >= available) return -1;
        first = bytes[pos + i]!;
        value += (first & 0x7f) * scale;
        i++;
        if (first < 0x80) break;
        scale *= 128;
      }
      if (first === 0 && i > 1) {
        throw new CorruptFrameError(`varint length at byte ${offset} is not minimally encoded`, offset);
      }
      if (value > Number.MAX_SAFE_INTEGER) throw beyondSafe(offset);
      const payload = value + this.#adjustment;
      if (payload < 0) throw negativeLength(offset, payload);
      this.#headerStrip = i;
      return i + payload;
    }
    if (available < this.#fieldEnd) return -1;
    const at = pos + this.#fieldOffset;
    const le = this.#littleEndian;
    let value: number;
    switch (this.#fieldLength) {
      case 1:
        value = bytes[at]!;
        break;
      case 2:
        value = le ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!;
        break;
      case 3:
        value = le
          ? bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)
          : (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
        break;
      case 4:
        value = le ? readUint32LE(bytes, at) : readUint32BE(bytes, at);
        break;
      default: {
        const high = le ? readUint32LE(bytes, at + 4) : readUint32BE(bytes, at);
        const low = le ? readUint32LE(bytes, at) : readUint32BE(bytes, at + 4);
        value = high * TWO_POW_32 + low;
        // 2^53 and above cannot be represented exactly, so the frame end would be a guess.
        if (high >= 0x200000) throw beyondSafe(offset);
      }
    }
    const frameLength = value + this.#adjustment + this.#fieldEnd;
    if (frameLength < this.#fieldEnd) throw negativeLength(offset, frameLength - this.#fieldEnd);
    if (frameLength <= this.#max && this.#strip > frameLength) {
      throw new CorruptFrameError(
        `frame at byte ${offset} is ${frameLength} bytes, shorter than initialBytesToStrip ${this.#strip}`,
        offset,
      );
    }
    this.#headerStrip = this.#strip;
    return frameLength;
  }
}

function readUint32BE(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function readUint32LE(bytes: Uint8Array, at: number): number {
  return bytes[at + 3]! * 0x1000000 + ((bytes[at + 2]! << 16) | (bytes[at + 1]! << 8) | bytes[at]!);
}

function negativeLength(offset: number, length: number): CorruptFrameError {
  return new CorruptFrameError(
    `frame at byte ${offset}: content length after lengthAdjustment is negative (${length})`,
    offset,
  );
}

function beyondSafe(offset: number): CorruptFrameError {
  return new CorruptFrameError(`frame at byte ${offset}: length field is 2^53 or more`, offset);
}

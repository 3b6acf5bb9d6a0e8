// Cuts a byte stream at line ends, as Netty's LineBasedFrameDecoder. Searching is linear: bytes already
// searched are never searched again, so a 16 MiB line arriving in 16 KiB chunks costs one pass over 16 MiB
// (split2 re-joins and re-splits the buffered text on every chunk, which is quadratic there).

import { asBuffer, ByteQueue } from './byte-queue.js';
import { FrameTooLongError, type FramingError, TruncatedFrameError } from './errors.js';
import { checkMaxFrameLength, type FrameDecoder } from './frame-decoder.js';

const LF = 0x0a;
const CR = 0x0d;

/** Options of {@link LineDecoder}. */
export interface LineDecoderOptions<E extends LineEncoding | undefined = LineEncoding | undefined> {
  /** Longest accepted line, not counting its `\n` or `\r\n`. Default {@link DEFAULT_MAX_FRAME_LENGTH}. */
  maxFrameLength?: number;
  /** Drop the `\n` / `\r\n` from the frames. Default `true`. */
  stripDelimiter?: boolean;
  /**
   * `true` (default): raise {@link FrameTooLongError} as soon as a line is known to be too long; `false`:
   * once its end has gone by. Either way the line is discarded without being buffered.
   */
  failFast?: boolean;
  /**
   * Yield each line as a string decoded with this encoding instead of bytes. A line is always whole, so a
   * multi-byte UTF-8 character is never cut between chunks. Only encodings where byte 0x0A is always a
   * line feed (not UTF-16). Default: none, lines are `Uint8Array` views.
   */
  encoding?: E;
  /**
   * At `end()`, hand over an unterminated last line (`"a\nb"` gives `a` then `b`) instead of raising
   * {@link TruncatedFrameError}, as split2 does. Default `false`: a stream cut inside a line is an error,
   * because for a line protocol that usually means a lost peer, not a finished message.
   */
  emitTrailing?: boolean;
}

/** Encodings a {@link LineDecoder} can decode lines with. */
export type LineEncoding = 'utf8' | 'utf-8' | 'latin1' | 'ascii';
const LINE_ENCODINGS: readonly string[] = ['utf8', 'utf-8', 'latin1', 'ascii'];

/** What a {@link LineDecoder} yields: strings with an `encoding`, bytes without. */
export type LineOf<E extends LineEncoding | undefined> = E extends LineEncoding ? string : Uint8Array;

/**
 * Decodes lines ended by `\n` or `\r\n`.
 *
 * ```text
 * BEFORE DECODE (16 bytes)              AFTER DECODE (two frames)
 * +--------------------------------+    +-------+  +------+
 * | "hello\r\nworld\nabc"          |--->| hello |  | world |   ("abc" waits for its line end)
 * +--------------------------------+    +-------+  +------+
 * ```
 *
 * A lone `\r` is data, not a line end. Frames within one chunk are views of it; a line spanning chunks is
 * copied once. An over-long line raises {@link FrameTooLongError} and is skipped up to its line end.
 */
export class LineDecoder<E extends LineEncoding | undefined = undefined> implements FrameDecoder<LineOf<E>> {
  readonly #max: number;
  readonly #strip: boolean;
  readonly #failFast: boolean;
  readonly #encoding: LineEncoding | undefined;
  readonly #emitTrailing: boolean;
  // Bytes of the current line; they never contain \n (they were searched when they arrived).
  readonly #queue = new ByteQueue();
  #frameStart = 0;
  #received = 0;
  #discarding = false;
  #discardStart = 0;
  #discarded = 0;
  #lastWasCR = false;
  #pending: FrameTooLongError | undefined;

  constructor(options: LineDecoderOptions<E> = {}) {
    this.#max = checkMaxFrameLength(options.maxFrameLength);
    this.#strip = options.stripDelimiter ?? true;
    this.#failFast = options.failFast ?? true;
    if (options.encoding !== undefined && !LINE_ENCODINGS.includes(options.encoding)) {
      throw new RangeError(
        `encoding must be one of ${LINE_ENCODINGS.join(', ')}, got ${String(options.encoding)}`,
      );
    }
    this.#encoding = options.encoding;
    this.#emitTrailing = options.emitTrailing ?? false;
  }

  /**
   * Bytes of the unfinished frame held right now (by reference to the pushed chunks): after each push,
   * never more than `maxFrameLength` plus a partial delimiter. Use it for per-connection memory metrics.
   */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** Feeds the next bytes; returns the lines they complete. See {@link FrameDecoder.push}. */
  push(chunk: Uint8Array): LineOf<E>[] {
    return this.#decode(this.#push(chunk));
  }

  // Strings only at the edge, so the byte path (the default) stays free of per-line checks.
  #decode(lines: Uint8Array[]): LineOf<E>[] {
    const enc = this.#encoding;
    // Without an encoding LineOf<E> is Uint8Array; TypeScript cannot follow that through the conditional.
    if (enc === undefined) return lines as LineOf<E>[];
    return lines.map((l) => asBuffer(l).toString(enc)) as LineOf<E>[];
  }

  #push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (chunk.length === 0) return out;
    const buf = asBuffer(chunk);
    const n = buf.length;
    const chunkStart = this.#received;
    this.#received += n;
    const max = this.#max;
    let pos = 0;
    if (this.#discarding) {
      const lf = buf.indexOf(LF);
      if (lf < 0) {
        this.#discarded += n;
        if (n > 0) this.#lastWasCR = buf[n - 1] === CR;
        return out;
      }
      const cr = lf > 0 ? buf[lf - 1] === CR : this.#lastWasCR;
      const length = this.#discarded + lf - (cr ? 1 : 0);
      this.#discarding = false;
      if (!this.#failFast) this.#pending ??= new FrameTooLongError(this.#discardStart, length, max);
      pos = lf + 1;
    } else if (this.#queue.length > 0) {
      const queue = this.#queue;
      const buffered = queue.length;
      const lf = buf.indexOf(LF);
      if (lf < 0) {
        queue.append(buf);
        const endsWithCR = buf[n - 1] === CR;
        if (queue.length - (endsWithCR ? 1 : 0) > max) {
          this.#startDiscard(this.#frameStart, queue.length, endsWithCR);
        }
        return this.#finish(out);
      }
      const cr = lf > 0 ? buf[lf - 1] === CR : queue.byteAt(buffered - 1) === CR;
      const length = buffered + lf - (cr ? 1 : 0);
      if (length > max) {
        this.#pending ??= new FrameTooLongError(this.#frameStart, length, max);
      } else {
        out.push(queue.copyFrame(buf, 0, this.#strip ? length : buffered + lf + 1));
      }
      queue.clear();
      pos = lf + 1;
    }
    const strip = this.#strip;
    const buffer = buf.buffer;
    const base = buf.byteOffset;
    while (pos < n) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) break;
      const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      if (end - pos > max) this.#pending ??= new FrameTooLongError(chunkStart + pos, end - pos, max);
      else out.push(new Uint8Array(buffer, base + pos, (strip ? end : lf + 1) - pos));
      pos = lf + 1;
    }
    if (pos < n) {
      const endsWithCR = buf[n - 1] === CR;
      if (n - pos - (endsWithCR ? 1 : 0) > max) {
        this.#startDiscard(chunkStart + pos, n - pos, endsWithCR);
      } else {
        this.#frameStart = chunkStart + pos;
        this.#queue.append(buf.subarray(pos));
      }
    }
    return this.#finish(out);
  }

  /**
   * The stream ended. See {@link FrameDecoder.end}. With `emitTrailing`, returns the unterminated last
   * line (if any) instead of throwing; a too-long last line is still an error.
   */
  end(): LineOf<E>[] {
    const buffered = this.#queue.length;
    const discarding = this.#discarding;
    const start = discarding ? this.#discardStart : this.#frameStart;
    const received = discarding ? this.#discarded : buffered;
    const tail =
      this.#emitTrailing && buffered > 0 ? this.#queue.copyFrame(new Uint8Array(0), 0, buffered) : undefined;
    this.#queue.clear();
    this.#discarding = false;
    this.#received = 0;
    if (tail !== undefined) return this.#decode([tail]);
    if (buffered > 0 || discarding) throw new TruncatedFrameError(start, received);
    return [];
  }

  // The line so far is dropped now; only its length is remembered.
  #startDiscard(start: number, seen: number, endsWithCR: boolean): void {
    const known = seen - (endsWithCR ? 1 : 0);
    this.#lastWasCR = endsWithCR;
    this.#queue.clear();
    this.#discarding = true;
    this.#discardStart = start;
    this.#discarded = seen;
    if (this.#failFast) this.#pending ??= new FrameTooLongError(start, known, this.#max, false);
  }

  #finish(out: Uint8Array[]): Uint8Array[] {
    const error = this.#pending;
    if (error === undefined) return out;
    this.#pending = undefined;
    // The error carries the frames in the decoder's own type (strings with an encoding).
    (error as FramingError<unknown>).frames = this.#decode(out);
    throw error;
  }
}

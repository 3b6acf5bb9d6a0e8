// Cuts a byte stream at one or more delimiters, as Netty's DelimiterBasedFrameDecoder.
//
// Searching is linear. Every byte position is decided once: either a delimiter starts there or none can.
// Buffer.indexOf (memchr/memmem) finds the candidates in each new chunk; only the last (longest delimiter
// − 1) positions of a chunk can be undecided — a delimiter may have begun but not yet ended — and only
// those are looked at again when the next chunk arrives. Per delimiter, the index of its next occurrence
// in the current chunk is cached, so several delimiters do not multiply the searching either.
//
// The decision rule keeps the output independent of how the stream is chunked: the frame ends at the
// earliest position where a delimiter starts (the shortest frame wins); if two delimiters start there,
// the one listed first wins, and if it might still match once more bytes arrive, we wait for them.

import { asBuffer, ByteQueue } from './byte-queue.js';
import { FrameTooLongError, TruncatedFrameError } from './errors.js';
import { checkMaxFrameLength, type FrameDecoder } from './frame-decoder.js';

/** A delimiter: bytes, or a string taken as its UTF-8 encoding. */
export type Delimiter = string | Uint8Array;

/** Options of {@link DelimiterDecoder}. */
export interface DelimiterDecoderOptions {
  /** One delimiter or several (non-empty). */
  delimiters: Delimiter | readonly Delimiter[];
  /** Drop the delimiter from the frames. Default `true`. */
  stripDelimiter?: boolean;
  /** Longest accepted frame, not counting its delimiter (as Netty). Default {@link DEFAULT_MAX_FRAME_LENGTH}. */
  maxFrameLength?: number;
  /**
   * `true` (default): raise {@link FrameTooLongError} as soon as a frame is known to be too long; `false`:
   * once its delimiter has gone by. Either way the frame is discarded without being buffered.
   */
  failFast?: boolean;
}

const NO_MATCH = -1;
const UNDECIDED = -2;
const UNKNOWN = -2;

/**
 * Decodes frames ended by a delimiter.
 *
 * ```text
 * delimiters = ['\0']                     AFTER DECODE (two frames)
 * BEFORE DECODE (9 bytes)                 +-----+  +----+
 * +-------------------+                   | ABC |  | DE |   ("F" waits for its delimiter)
 * | "ABC\0DE\0F"      |------------------>+-----+  +----+
 * +-------------------+
 * ```
 *
 * With several delimiters the one that yields the shortest frame wins, so `['\r\n', '\n']` cuts
 * `"a\r\nb\n"` into `"a"`, `"b"`. Frames within one chunk are views of it; a frame spanning chunks is
 * copied once. A too-long frame raises {@link FrameTooLongError} and is skipped up to its delimiter.
 */
export class DelimiterDecoder implements FrameDecoder {
  readonly #delimiters: Buffer[];
  readonly #longest: number;
  readonly #strip: boolean;
  readonly #max: number;
  readonly #failFast: boolean;
  /** Per delimiter: index of its next occurrence in the current chunk, -1 none, UNKNOWN not searched. */
  readonly #next: Int32Array;

  // Bytes of the current frame. Positions below #scan are known not to start a delimiter.
  readonly #queue = new ByteQueue();
  #scan = 0;
  #frameStart = 0;
  #received = 0;
  #discarding = false;
  #discardStart = 0;
  #discarded = 0;
  #pending: FrameTooLongError | undefined;
  /** Delimiter index found by the last search, or UNDECIDED. */
  #hit = UNDECIDED;

  constructor(options: DelimiterDecoderOptions) {
    const list: readonly Delimiter[] =
      typeof options.delimiters === 'string' || options.delimiters instanceof Uint8Array
        ? [options.delimiters]
        : options.delimiters;
    if (list.length === 0) throw new RangeError('at least one delimiter is required');
    this.#delimiters = list.map((d) => {
      const bytes = typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d);
      if (bytes.length === 0) throw new RangeError('a delimiter cannot be empty');
      return bytes;
    });
    this.#longest = Math.max(...this.#delimiters.map((d) => d.length));
    this.#strip = options.stripDelimiter ?? true;
    this.#max = checkMaxFrameLength(options.maxFrameLength);
    this.#failFast = options.failFast ?? true;
    this.#next = new Int32Array(this.#delimiters.length);
  }

  /**
   * Bytes of the unfinished frame held right now (by reference to the pushed chunks): after each push,
   * never more than `maxFrameLength` plus a partial delimiter. Use it for per-connection memory metrics.
   */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** Feeds the next bytes; returns the frames they complete. See {@link FrameDecoder.push}. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (chunk.length === 0) return out;
    const buf = asBuffer(chunk);
    const n = buf.length;
    const chunkStart = this.#received;
    this.#received += n;
    this.#next.fill(UNKNOWN);
    const queue = this.#queue;
    const max = this.#max;
    let pos = 0;

    // Slow path: a frame (kept or being discarded) started in an earlier chunk.
    while (queue.length > 0 || this.#discarding) {
      const buffered = queue.length;
      let at = -1;
      let hit = UNDECIDED;
      for (let i = this.#scan; i < buffered; i++) {
        const r = this.#matchAt(buf, pos, i);
        if (r !== NO_MATCH) {
          at = i;
          hit = r;
          break;
        }
      }
      if (at < 0) {
        at = buffered + this.#search(buf, pos) - pos;
        hit = this.#hit;
      }
      if (hit === UNDECIDED) {
        // No delimiter yet; positions below `at` can never start one.
        if (pos < n) queue.append(pos === 0 ? buf : buf.subarray(pos));
        pos = n;
        if (this.#discarding) {
          this.#discarded += at;
          this.#dropFromQueue(at);
        } else if (at > max) {
          this.#discarding = true;
          this.#discardStart = this.#frameStart;
          this.#discarded = at;
          this.#dropFromQueue(at);
          if (this.#failFast) this.#pending ??= new FrameTooLongError(this.#discardStart, at, max, false);
        } else {
          this.#scan = at;
        }
        return this.#finish(out);
      }
      const end = at + this.#delimiters[hit]!.length;
      if (this.#discarding) {
        this.#discarding = false;
        if (!this.#failFast) {
          this.#pending ??= new FrameTooLongError(this.#discardStart, this.#discarded + at, max);
        }
      } else if (at > max) {
        this.#pending ??= new FrameTooLongError(this.#frameStart, at, max);
      } else {
        out.push(queue.copyFrame(buf, pos, this.#strip ? at : end));
      }
      this.#scan = 0;
      if (end <= buffered) {
        this.#dropFromQueue(end);
      } else {
        pos += end - buffered;
        queue.clear();
      }
    }

    // Fast path: frames that start in this chunk are cut as views.
    const strip = this.#strip;
    const buffer = buf.buffer;
    const base = buf.byteOffset;
    while (pos < n) {
      const at = this.#search(buf, pos);
      const hit = this.#hit;
      if (hit === UNDECIDED) {
        this.#frameStart = chunkStart + pos;
        queue.append(pos === 0 ? buf : buf.subarray(pos));
        if (at - pos > max) {
          this.#discarding = true;
          this.#discardStart = this.#frameStart;
          this.#discarded = at - pos;
          this.#dropFromQueue(at - pos);
          if (this.#failFast)
            this.#pending ??= new FrameTooLongError(this.#discardStart, at - pos, max, false);
        } else {
          this.#scan = at - pos;
        }
        break;
      }
      const end = at + this.#delimiters[hit]!.length;
      if (at - pos > max) this.#pending ??= new FrameTooLongError(chunkStart + pos, at - pos, max);
      else out.push(new Uint8Array(buffer, base + pos, (strip ? at : end) - pos));
      pos = end;
    }
    return this.#finish(out);
  }

  /** The stream ended. See {@link FrameDecoder.end}. */
  end(): void {
    const buffered = this.#queue.length;
    const discarding = this.#discarding;
    const start = discarding ? this.#discardStart : this.#frameStart;
    const received = buffered + (discarding ? this.#discarded : 0);
    this.#queue.clear();
    this.#scan = 0;
    this.#discarding = false;
    this.#received = 0;
    if (buffered > 0 || discarding) throw new TruncatedFrameError(start, received);
  }

  #dropFromQueue(count: number): void {
    this.#queue.consume(count);
    this.#frameStart += count;
    this.#scan = 0;
  }

  // First position ≥ from in buf where a delimiter starts (#hit = its index), or the first position that
  // cannot be decided yet (#hit = UNDECIDED; buf.length if every position was decided).
  #search(buf: Buffer, from: number): number {
    const n = buf.length;
    const delimiters = this.#delimiters;
    const next = this.#next;
    let best = -1;
    let bestIndex = UNDECIDED;
    for (let k = 0; k < delimiters.length; k++) {
      let index = next[k]!;
      if (index === UNKNOWN || (index >= 0 && index < from)) {
        index = buf.indexOf(delimiters[k]!, from);
        next[k] = index;
      }
      if (index >= 0 && (best < 0 || index < best)) {
        best = index;
        bestIndex = k;
      }
    }
    // Below this position every delimiter either fully matches or fully mismatches within buf.
    const decided = n - this.#longest;
    if (best >= 0 && best <= decided) {
      this.#hit = bestIndex;
      return best;
    }
    const last = best >= 0 ? best : n - 1;
    for (let p = Math.max(from, decided + 1); p <= last; p++) {
      const r = matchInBuffer(delimiters, buf, p);
      if (r !== NO_MATCH) {
        this.#hit = r;
        return p;
      }
    }
    this.#hit = UNDECIDED;
    return n;
  }

  // Which delimiter starts at position `p` of the virtual stream (queue bytes, then buf from `pos`):
  // its index, NO_MATCH, or UNDECIDED when the first candidate in list order runs past the data.
  #matchAt(buf: Buffer, pos: number, p: number): number {
    const queue = this.#queue;
    const buffered = queue.length;
    const available = buffered + buf.length - pos;
    const delimiters = this.#delimiters;
    for (let k = 0; k < delimiters.length; k++) {
      const d = delimiters[k]!;
      let j = 0;
      for (; j < d.length; j++) {
        const i = p + j;
        if (i >= available) return UNDECIDED;
        const byte = i < buffered ? queue.byteAt(i) : buf[pos + i - buffered]!;
        if (byte !== d[j]) break;
      }
      if (j === d.length) return k;
    }
    return NO_MATCH;
  }

  #finish(out: Uint8Array[]): Uint8Array[] {
    const error = this.#pending;
    if (error === undefined) return out;
    this.#pending = undefined;
    error.frames = out;
    throw error;
  }
}

// Like #matchAt for a position inside one buffer (a delimiter starting there only needs that buffer).
function matchInBuffer(delimiters: readonly Buffer[], buf: Buffer, p: number): number {
  const n = buf.length;
  for (let k = 0; k < delimiters.length; k++) {
    const d = delimiters[k]!;
    let j = 0;
    for (; j < d.length; j++) {
      if (p + j >= n) return UNDECIDED;
      if (buf[p + j] !== d[j]) break;
    }
    if (j === d.length) return k;
  }
  return NO_MATCH;
}

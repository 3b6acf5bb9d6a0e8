/**
 * The unconsumed input of one connection, as one contiguous region so a parser can index it directly.
 *
 *   region: [ consumed ....... | live bytes (start..end) | free ......... ]
 *                              ^start                    ^end
 *
 * Zero-copy in the common case: when nothing is left over, `append(chunk)` *borrows* the caller's chunk
 * instead of copying it, and the parser reads it in place. Before the session returns to its caller it
 * calls `release()`, which copies only the leftover (a partial line, a paused pipeline) into owned
 * storage: the session never keeps a reference to a chunk it was given. Owned storage compacts (moves
 * live bytes to the front) only when that frees enough room and otherwise grows by doubling, so N bytes
 * cost O(N) copies however they are chunked.
 *
 * Views returned by `view` alias the region: copy them before the next `append`/`release` if they must
 * live on.
 */

/** Owned storage above this is given back once drained: 500 idle keep-alive connections should cost ~0, not 500×peak. */
const SHRINK_ABOVE_BYTES = 64 * 1024;
/** First owned allocation: a request head usually fits. */
const INITIAL_CAPACITY = 4096;
const EMPTY = new Uint8Array(0);

export class InputBuffer {
  /** What `start..end` index into: either `#owned` or a borrowed chunk. */
  #region: Uint8Array = EMPTY;
  /** Storage we own; allocated on the first leftover, dropped when drained and large. */
  #owned: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** Bytes ever consumed: lets errors report offsets from the connection's first byte. */
  #consumedTotal = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  /** Connection offset of the first live byte. */
  get offset(): number {
    return this.#consumedTotal;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#end === this.#start) {
      this.#region = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      return;
    }
    this.#own(chunk.length);
    this.#owned.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Stop borrowing: copy the live bytes of a borrowed chunk into owned storage. Call before returning. */
  release(): void {
    if (this.#region !== this.#owned && this.#end > this.#start) this.#own(0);
  }

  /** The array live bytes sit in, from `backingStart`: for parsers that index without making views. */
  get backing(): Uint8Array {
    return this.#region;
  }

  get backingStart(): number {
    return this.#start;
  }

  /** Byte at live index `i` (0 = first unconsumed byte); caller guarantees `i < length`. */
  at(i: number): number {
    return this.#region[this.#start + i]!;
  }

  /** Live index of the first `byte` at or after live index `from`, or -1. */
  indexOf(byte: number, from: number): number {
    const region = this.#region;
    const end = this.#end;
    if (end === region.length) {
      // Live bytes run to the end of the array (a borrowed chunk, usually): native memchr-speed search.
      // (A JavaScript loop over a short header line was tried: ~13 instructions a byte under callgrind,
      // more than the call costs.)
      const found = region.indexOf(byte, this.#start + from);
      return found === -1 ? -1 : found - this.#start;
    }
    // Owned storage has stale bytes past `end`: a plain loop, no subarray allocated per call.
    for (let i = this.#start + from; i < end; i++) if (region[i] === byte) return i - this.#start;
    return -1;
  }

  /** A view of live bytes [from, to); aliases the region. */
  view(from: number, to: number): Uint8Array {
    return this.#region.subarray(this.#start + from, this.#start + to);
  }

  consume(n: number): void {
    this.#start += n;
    this.#consumedTotal += n;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // One big burst must not pin its peak size for the connection's whole life.
      if (this.#owned.length > SHRINK_ABOVE_BYTES) this.#owned = EMPTY;
      this.#region = this.#owned;
    }
  }

  /** Drop all input for good (after a fatal error); keeps the offset honest. */
  discardAll(): void {
    this.consume(this.length);
  }

  /** Makes the live bytes sit in owned storage at [0, live) with room for `extra` more after them. */
  #own(extra: number): void {
    const live = this.#end - this.#start;
    const need = live + extra;
    if (this.#region === this.#owned) {
      if (this.#end + extra <= this.#owned.length) return;
      if (need <= this.#owned.length && this.#start >= live) {
        // Compacting copies `live` bytes, paid for by the `start >= live` bytes consumed since last time.
        this.#owned.copyWithin(0, this.#start, this.#end);
      } else {
        let capacity = Math.max(this.#owned.length * 2, INITIAL_CAPACITY);
        while (capacity < need) capacity *= 2;
        const grown = new Uint8Array(capacity);
        grown.set(this.#owned.subarray(this.#start, this.#end));
        this.#owned = grown;
      }
    } else {
      if (this.#owned.length < need) {
        let capacity = Math.max(this.#owned.length, INITIAL_CAPACITY);
        while (capacity < need) capacity *= 2;
        this.#owned = new Uint8Array(capacity);
      }
      this.#owned.set(this.#region.subarray(this.#start, this.#end));
    }
    this.#region = this.#owned;
    this.#start = 0;
    this.#end = live;
  }
}

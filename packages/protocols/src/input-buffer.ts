/**
 * The unconsumed input of one connection, as one contiguous region so a parser can index it directly.
 *
 *   storage: [ consumed ....... | live bytes (start..end) | free ......... ]
 *                               ^start                    ^end
 *
 * `append` compacts (moves the live bytes to the front) only when that frees enough room and otherwise
 * grows by doubling, so N bytes pushed cost O(N) copies overall however they are chunked. Views returned
 * by `view` alias the storage: copy them before the next `append` if they must live on.
 */
/** Storage above this is given back once drained: 500 idle keep-alive connections should cost ~2 MiB, not 500×peak. */
const SHRINK_ABOVE_BYTES = 64 * 1024;

export class InputBuffer {
  #storage: Uint8Array;
  readonly #initialCapacity: number;
  #start = 0;
  #end = 0;
  /** Bytes ever consumed: lets errors report offsets from the connection's first byte. */
  #consumedTotal = 0;

  constructor(initialCapacity = 4096) {
    this.#initialCapacity = initialCapacity;
    this.#storage = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** Connection offset of the first live byte. */
  get offset(): number {
    return this.#consumedTotal;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const live = this.#end - this.#start;
    if (this.#end + chunk.length > this.#storage.length) {
      if (live + chunk.length <= this.#storage.length && this.#start >= live) {
        // Compacting copies `live` bytes, paid for by the `start >= live` bytes consumed since last time.
        this.#storage.copyWithin(0, this.#start, this.#end);
      } else {
        let capacity = this.#storage.length * 2;
        while (capacity < live + chunk.length) capacity *= 2;
        const grown = new Uint8Array(capacity);
        grown.set(this.#storage.subarray(this.#start, this.#end));
        this.#storage = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#storage.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Byte at live index `i` (0 = first unconsumed byte); caller guarantees `i < length`. */
  at(i: number): number {
    return this.#storage[this.#start + i]!;
  }

  /** Live index of the first `byte` at or after live index `from`, or -1. */
  indexOf(byte: number, from: number): number {
    // A plain loop: no subarray allocated per call, and lines are short.
    const storage = this.#storage;
    const end = this.#end;
    for (let i = this.#start + from; i < end; i++) if (storage[i] === byte) return i - this.#start;
    return -1;
  }

  /** A view of live bytes [from, to); aliases the storage. */
  view(from: number, to: number): Uint8Array {
    return this.#storage.subarray(this.#start + from, this.#start + to);
  }

  consume(n: number): void {
    this.#start += n;
    this.#consumedTotal += n;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // One big pipelined burst must not pin its peak size for the connection's whole life.
      if (this.#storage.length > SHRINK_ABOVE_BYTES) this.#storage = new Uint8Array(this.#initialCapacity);
    }
  }

  /** Drop all input for good (after a fatal error); keeps the offset honest. */
  discardAll(): void {
    this.consume(this.length);
  }
}

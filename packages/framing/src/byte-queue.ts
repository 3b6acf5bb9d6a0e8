// The bytes of one unfinished frame, kept as references to the chunks they arrived in.
//
// Appending does not copy (except pieces under COPY_BELOW bytes, see below): a frame that trickles in
// over many chunks is copied once, when complete, into a buffer of exactly its size. Concatenating on
// every push would make a frame of n bytes arriving in k chunks cost O(n·k) and allocate k times.
//
//   chunks:  [ ...........#### ][ ######## ][ ###### ]
//                         ^ head                     length = bytes marked #

/**
 * Allocates the single copy of a frame that spans chunks: its own ArrayBuffer of exactly `size` bytes
 * (not a slice of Node's shared pool, which a retained frame would pin), not zero-filled because every
 * byte is overwritten at once. A plain Uint8Array like the views, so frames never differ in type (a
 * Buffer's toString() decodes text, a Uint8Array's lists numbers: mixing them would be a trap).
 */
export function allocFrame(size: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
}

/**
 * A view of chunk[start, end). Built from the ArrayBuffer directly: 2–3× cheaper than subarray() on a
 * Buffer, which goes through Symbol.species — and per-frame cost is what small frames are made of.
 * Hot loops inline this with `chunk.buffer` and `chunk.byteOffset` read once per chunk: the `buffer`
 * getter alone costs more than the view.
 */
export function view(chunk: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start);
}

/** A Buffer view of `chunk` (no copy), for Buffer.indexOf — a memchr/memmem far faster than a JS loop. */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

// Chunks below this size are copied into a staging buffer instead of being referenced. A peer that
// trickles a frame in 1-byte TCP segments would otherwise make us hold one Buffer object (~100 bytes of
// overhead) per byte received; and a few leftover bytes would pin the whole 64 KiB chunk they came in.
// Copying pieces this small costs little; bigger chunks are still referenced, never copied twice.
const COPY_BELOW = 1024;
// Staging buffers grow by doubling from STAGE_MIN up to STAGE_MAX, then a new one starts: the overhead
// stays a small fraction of the bytes held, and an idle connection's leftover holds a small buffer.
const STAGE_MIN = 256;
const STAGE_MAX = 16 * 1024;

export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;
  // Open staging buffer for small chunks; its bytes [#stageStart, #stageEnd) follow #chunks.
  #stage: Uint8Array | undefined;
  #stageStart = 0;
  #stageEnd = 0;

  get length(): number {
    return this.#length;
  }

  /** Number of separately held pieces (for tests of the memory bound). */
  get pieces(): number {
    return this.#chunks.length + (this.#stageEnd > this.#stageStart ? 1 : 0);
  }

  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    this.#length += n;
    if (n >= COPY_BELOW) {
      this.#seal();
      this.#chunks.push(chunk);
      return;
    }
    let stage = this.#stage;
    if (stage === undefined || this.#stageEnd + n > stage.length) {
      const used = this.#stageEnd - this.#stageStart;
      if (used + n <= STAGE_MAX) {
        const grown = new Uint8Array(Math.min(STAGE_MAX, Math.max(STAGE_MIN, 2 * (used + n))));
        if (stage !== undefined && used > 0) grown.set(stage.subarray(this.#stageStart, this.#stageEnd));
        stage = this.#stage = grown;
        this.#stageStart = 0;
        this.#stageEnd = used;
      } else {
        this.#seal();
        stage = this.#stage = new Uint8Array(STAGE_MIN + 2 * n);
      }
    }
    if (n === 1) stage[this.#stageEnd] = chunk[0]!;
    else stage.set(chunk, this.#stageEnd);
    this.#stageEnd += n;
  }

  /** Byte `index` counted from the head. Walks from the tail: callers look at the last few bytes. */
  byteAt(index: number): number {
    let end = this.#length;
    const staged = this.#stageEnd - this.#stageStart;
    if (staged > 0) {
      const start = end - staged;
      if (index >= start) return this.#stage![this.#stageStart + index - start]!;
      end = start;
    }
    for (let c = this.#chunks.length - 1; c >= 0; c--) {
      const chunk = this.#chunks[c]!;
      const start = end - chunk.length;
      if (index >= start) return chunk[index - start]!;
      end = start;
    }
    throw new RangeError(`byte ${index} is not buffered`);
  }

  /** Copies buffered bytes [from, to) into `target` at `at`; returns the number of bytes copied. */
  copyTo(target: Uint8Array, at: number, from: number, to: number = this.#length): number {
    let chunkStart = 0;
    let written = 0;
    const count = this.#chunks.length;
    for (let c = 0; c <= count && chunkStart < to; c++) {
      let chunk: Uint8Array;
      if (c < count) chunk = this.#chunks[c]!;
      else if (this.#stageEnd > this.#stageStart)
        chunk = this.#stage!.subarray(this.#stageStart, this.#stageEnd);
      else break;
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > from) {
        const lo = Math.max(from, chunkStart) - chunkStart;
        const hi = Math.min(to, chunkEnd) - chunkStart;
        if (lo === 0 && hi === chunk.length) target.set(chunk, at + written);
        else target.set(chunk.subarray(lo, hi), at + written);
        written += hi - lo;
      }
      chunkStart = chunkEnd;
    }
    return written;
  }

  /**
   * The single copy of a frame that spans chunks: `size` bytes taken from the head of the queue and, past
   * what the queue holds, from `chunk` starting at `from`. The queue itself is left as it is.
   */
  copyFrame(chunk: Uint8Array, from: number, size: number): Uint8Array {
    const frame = allocFrame(size);
    const written = this.copyTo(frame, 0, 0, Math.min(size, this.#length));
    if (size > written) frame.set(chunk.subarray(from, from + size - written), written);
    return frame;
  }

  /** Drops the first `count` bytes. */
  consume(count: number): void {
    if (count >= this.#length) {
      this.clear();
      return;
    }
    this.#length -= count;
    let drop = 0;
    while (count > 0 && drop < this.#chunks.length) {
      const chunk = this.#chunks[drop]!;
      if (count < chunk.length) {
        this.#chunks[drop] = chunk.subarray(count);
        count = 0;
        break;
      }
      count -= chunk.length;
      drop++;
    }
    if (drop > 0) this.#chunks.splice(0, drop);
    this.#stageStart += count;
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
    this.#stage = undefined;
    this.#stageStart = 0;
    this.#stageEnd = 0;
  }

  // Closes the staging buffer: its bytes become an ordinary held piece, and later small chunks start a new one.
  #seal(): void {
    if (this.#stageEnd > this.#stageStart) {
      this.#chunks.push(view(this.#stage!, this.#stageStart, this.#stageEnd));
    }
    this.#stage = undefined;
    this.#stageStart = 0;
    this.#stageEnd = 0;
  }
}

// The bytes of one unfinished frame, kept as references to the chunks they arrived in.
//
// Appending never copies: a frame that trickles in over many chunks is copied exactly once, by take(),
// into a buffer of exactly its size. Concatenating on every push would make a frame of n bytes arriving
// in k chunks cost O(n·k) and allocate k times.
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
 */
export function view(chunk: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start);
}

/** A Buffer view of `chunk` (no copy), for Buffer.indexOf — a memchr/memmem far faster than a JS loop. */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Byte `index` counted from the head. Walks from the tail: callers look at the last few bytes. */
  byteAt(index: number): number {
    let end = this.#length;
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
    for (const chunk of this.#chunks) {
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > from) {
        const lo = Math.max(from, chunkStart) - chunkStart;
        const hi = Math.min(to, chunkEnd) - chunkStart;
        if (lo === 0 && hi === chunk.length) target.set(chunk, at + written);
        else target.set(chunk.subarray(lo, hi), at + written);
        written += hi - lo;
      }
      if (chunkEnd >= to) break;
      chunkStart = chunkEnd;
    }
    return written;
  }

  /** Drops the first `count` bytes. */
  consume(count: number): void {
    if (count >= this.#length) {
      this.clear();
      return;
    }
    this.#length -= count;
    let drop = 0;
    while (count > 0) {
      const chunk = this.#chunks[drop]!;
      if (count < chunk.length) {
        this.#chunks[drop] = chunk.subarray(count);
        break;
      }
      count -= chunk.length;
      drop++;
    }
    if (drop > 0) this.#chunks.splice(0, drop);
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}

/**
 * Cutting bytes the way TCP may deliver them: codec and session tests feed the same bytes split at every
 * offset, so "not enough bytes yet" paths are exercised as often as whole frames.
 */

/** One buffer holding `parts` in order. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Cuts `bytes` at `offsets` (any order, duplicates and out-of-range offsets ignored); the pieces are views
 * of `bytes` and concatenate back to it. Never yields an empty piece except for empty input.
 */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  return cutAt(
    bytes,
    [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort((a, b) => a - b),
  );
}

/**
 * Cuts `bytes` at exactly the given sorted offsets. Unlike {@link splitAt}, an offset of 0 or `bytes.length`
 * yields an empty piece on purpose: a decoder must accept an empty push.
 */
export function cutAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const offset of offsets) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** One-byte pieces: the worst delivery a decoder must survive. */
export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

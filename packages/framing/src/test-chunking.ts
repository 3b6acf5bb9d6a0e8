// Test support (excluded from the build): feed a decoder the same bytes cut in different ways.

import { concat, cutAt } from '@iolab/testkit';
import type { FrameDecoder } from './frame-decoder.js';

// The tree's one copy of the chunking helpers lives in testkit; re-exported for this package's tests.
export { concat, cutAt };

/** Pushes every chunk, then end(); returns the frames as fresh copies (frames may alias the chunks). */
export function decodeAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) for (const frame of decoder.push(chunk)) frames.push(Uint8Array.from(frame));
  decoder.end();
  return frames;
}

/** Every way to cut `bytes` in two, then in three (when short enough), then in one-byte chunks. */
export function* everyChunking(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let i = 0; i <= bytes.length; i++) yield cutAt(bytes, [i]);
  if (bytes.length <= 64) {
    for (let i = 1; i < bytes.length; i++)
      for (let j = i + 1; j < bytes.length; j++) yield cutAt(bytes, [i, j]);
  }
  yield oneByteChunks(bytes);
}

export function oneByteChunks(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  return chunks;
}

/** Copies each chunk into its own ArrayBuffer, so a decoder cannot accidentally see neighbouring bytes. */
export function isolate(chunks: readonly Uint8Array[]): Uint8Array[] {
  return chunks.map((c) => Uint8Array.from(c));
}

export function hex(frames: readonly Uint8Array[]): string[] {
  return frames.map((f) => Buffer.from(f).toString('hex'));
}

export const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');

// The scenarios of the framing micro-benchmark: the inputs (built lazily, once per process) and every
// decoding function, ours and the peers', each returning the number of frames it saw so the work cannot be
// optimised away. decode.bench.ts measures them.

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decodeStream, LengthFieldDecoder, LengthFieldEncoder, LineDecoder } from '@iolab/framing';
import * as lp from 'it-length-prefixed';
// @ts-expect-error length-prefixed-stream ships no types (a peer measured against; only its decoder is used)
import lps from 'length-prefixed-stream';
import split2 from 'split2';

const KiB = 1024;
export const MiB = 1024 * KiB;

// peer: a library doing the same work; reference: a peer doing less (not used for ratios); baseline: memcpy.
export type Role = 'ours' | 'peer' | 'reference' | 'baseline';

// ---------------------------------------------------------------------------------------------------------
// Inputs (built once; every task decodes exactly these bytes)

function chunked(bytes: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    // Each chunk owns its memory, as socket reads do.
    out.push(Buffer.from(bytes.subarray(at, at + size)));
  }
  return out;
}

function varintStream(frameCount: number, frameSize: number): Buffer {
  const encoder = new LengthFieldEncoder({ lengthFieldLength: 'varint' });
  const payload = Buffer.alloc(frameSize, 0x5a);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < frameCount; i++) parts.push(...encoder.encode(payload));
  return Buffer.concat(parts);
}

// Inputs are built on first use: each scenario runs in its own process and builds only its own.
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const LARGE_FRAMES = 16;
const smallChunks = lazy(() => chunked(varintStream(65_536, 64), 64 * KiB));
const largeChunks = lazy(() => chunked(varintStream(LARGE_FRAMES, MiB), 64 * KiB));
const tinyChunks = lazy(() => chunked(varintStream(1024, 64), 1));
const lineChunks = lazy(() =>
  chunked(
    Buffer.from(
      Array.from(
        { length: 50_000 },
        (_, i) => `GET /item/${i} HTTP/1.1 host=example.org user-agent=bench ${i % 97}\n`,
      ).join(''),
    ),
    64 * KiB,
  ),
);
const longLineChunks = lazy(() =>
  chunked(Buffer.concat([Buffer.alloc(MiB, 0x61), Buffer.from('\n')]), 16 * KiB),
);

export const bytesOf = (chunks: Buffer[]) => chunks.reduce((n, c) => n + c.length, 0);

// ---------------------------------------------------------------------------------------------------------
// Decoding functions; each returns the number of frames it saw so the work cannot be optimised away.

function oursVarint(chunks: Buffer[]): number {
  const decoder = new LengthFieldDecoder({ lengthFieldLength: 'varint', maxFrameLength: 2 * MiB });
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += decoder.push(chunks[i]!).length;
  decoder.end();
  return n;
}

function itLengthPrefixed(chunks: Buffer[]): number {
  let n = 0;
  // Sync iterable in, sync generator out: the peer's fastest path. Its frames are Uint8ArrayLists (not
  // made contiguous here, which flatters the peer for frames that span chunks).
  for (const _frame of lp.decode(chunks, { maxDataLength: 2 * MiB })) n++;
  return n;
}

// The same, asking for each frame as one contiguous Uint8Array as our decoder returns it (copies frames
// that span chunks): what a caller needing bytes, not a list of chunks, would do.
function itLengthPrefixedContiguous(chunks: Buffer[]): number {
  let n = 0;
  for (const frame of lp.decode(chunks, { maxDataLength: 2 * MiB }))
    n += frame.subarray().length > -1 ? 1 : 0;
  return n;
}

async function lengthPrefixedStream(chunks: Buffer[]): Promise<number> {
  let n = 0;
  await pipeline(
    Readable.from(chunks),
    lps.decode({ allowEmpty: true }),
    counter(() => n++),
  );
  return n;
}

async function oursStream(chunks: Buffer[]): Promise<number> {
  let n = 0;
  const decoder = new LengthFieldDecoder({ lengthFieldLength: 'varint', maxFrameLength: 2 * MiB });
  await pipeline(
    Readable.from(chunks),
    decodeStream(decoder),
    counter(() => n++),
  );
  return n;
}

function oursLines(chunks: Buffer[]): number {
  const decoder = new LineDecoder({ maxFrameLength: 4 * MiB });
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += decoder.push(chunks[i]!).length;
  decoder.end();
  return n;
}

async function oursLinesStream(chunks: Buffer[]): Promise<number> {
  let n = 0;
  await pipeline(
    Readable.from(chunks),
    decodeStream(new LineDecoder({ maxFrameLength: 4 * MiB })),
    counter(() => n++),
  );
  return n;
}

async function split2Lines(chunks: Buffer[]): Promise<number> {
  let n = 0;
  await pipeline(
    Readable.from(chunks),
    split2({ maxLength: 4 * MiB }),
    counter(() => n++),
  );
  return n;
}

function counter(onFrame: () => void): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(_frame, _encoding, callback) {
      onFrame();
      callback();
    },
  });
}

// The floor for large frames: gather each frame's 16 chunks into one exact-size buffer, nothing else.
function memcpySet(chunks: Buffer[]): number {
  const frameBytes = bytesOf(chunks) / LARGE_FRAMES;
  let n = 0;
  let frame = Buffer.allocUnsafeSlow(frameBytes);
  let at = 0;
  for (const chunk of chunks) {
    let from = 0;
    while (from < chunk.length) {
      const take = Math.min(chunk.length - from, frame.length - at);
      frame.set(from === 0 && take === chunk.length ? chunk : chunk.subarray(from, from + take), at);
      at += take;
      from += take;
      if (at === frame.length) {
        n++;
        frame = Buffer.allocUnsafeSlow(frameBytes);
        at = 0;
      }
    }
  }
  return n;
}

function memcpyConcat(chunks: Buffer[]): number {
  const frameBytes = bytesOf(chunks) / LARGE_FRAMES;
  let n = 0;
  let parts: Buffer[] = [];
  let at = 0;
  for (const chunk of chunks) {
    let from = 0;
    while (from < chunk.length) {
      const take = Math.min(chunk.length - from, frameBytes - at);
      parts.push(from === 0 && take === chunk.length ? chunk : chunk.subarray(from, from + take));
      at += take;
      from += take;
      if (at === frameBytes) {
        Buffer.concat(parts, frameBytes);
        n++;
        parts = [];
        at = 0;
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------

export interface Scenario {
  name: string;
  input: () => Buffer[];
  expectFrames?: number;
  tasks: [string, Role, (chunks: Buffer[]) => number | Promise<number>][];
  /** Minimum iterations per task per round (slow tasks: 1). */
  iterations?: number;
}

export const scenarios: Scenario[] = [
  {
    name: '64 B varint frames, 64 KiB chunks',
    input: smallChunks,
    expectFrames: 65_536,
    tasks: [
      ['@iolab/framing LengthFieldDecoder', 'ours', oursVarint],
      ['it-length-prefixed (sync)', 'peer', itLengthPrefixed],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
    ],
  },
  {
    name: '1 MiB varint frames, 64 KiB chunks',
    input: largeChunks,
    expectFrames: LARGE_FRAMES,
    tasks: [
      ['@iolab/framing LengthFieldDecoder', 'ours', oursVarint],
      // Frames that span chunks stay Uint8ArrayLists (no copy): less work than returning bytes.
      ['it-length-prefixed (sync, frames as Uint8ArrayList)', 'reference', itLengthPrefixed],
      ['it-length-prefixed (sync) + .subarray()', 'peer', itLengthPrefixedContiguous],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
      ['memcpy baseline (set)', 'baseline', memcpySet],
      ['memcpy baseline (Buffer.concat)', 'baseline', memcpyConcat],
    ],
  },
  {
    name: '64 B varint frames, 1-byte chunks',
    input: tinyChunks,
    expectFrames: 1024,
    tasks: [
      ['@iolab/framing LengthFieldDecoder', 'ours', oursVarint],
      ['it-length-prefixed (sync)', 'peer', itLengthPrefixed],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
    ],
  },
  {
    name: 'lines (~70 B), 64 KiB chunks',
    input: lineChunks,
    expectFrames: 50_000,
    tasks: [
      ['@iolab/framing LineDecoder', 'ours', oursLines],
      ['@iolab/framing decodeStream(LineDecoder)', 'ours', oursLinesStream],
      ['split2', 'peer', split2Lines],
    ],
  },
  {
    name: 'stream adapter: 64 B varint frames, 64 KiB chunks',
    input: smallChunks,
    expectFrames: 65_536,
    tasks: [
      ['@iolab/framing decodeStream(LengthFieldDecoder)', 'ours', oursStream],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
    ],
  },
  {
    name: 'one 1 MiB line, 16 KiB chunks',
    input: longLineChunks,
    expectFrames: 1,
    iterations: 1,
    tasks: [
      ['@iolab/framing LineDecoder', 'ours', oursLines],
      ['split2', 'peer', split2Lines],
    ],
  },
];

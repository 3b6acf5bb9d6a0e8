/**
 * The shared memory of one relayed connection: control words plus two byte rings. The main thread owns
 * the socket; a worker thread owns the session. Neither ever blocks the other: each ring has exactly one
 * writer and one reader, positions only grow (wrapping at 2^32), and every change is followed by a
 * bump of the other side's wake word so a sleeper re-checks.
 *
 * ```
 *  offset 0                         64                    64+IN_CAP                   64+IN_CAP+OUT_CAP
 *  ┌────────────────────────────────┬─────────────────────┬──────────────────────────┐
 *  │ control: 16 × Int32            │ inbound ring        │ outbound ring            │
 *  │ (see CTRL_* below)             │ socket → worker     │ worker → socket          │
 *  └────────────────────────────────┴─────────────────────┴──────────────────────────┘
 *   ring bytes in use = head − tail (Int32 arithmetic, correct while capacity < 2^31)
 *   byte n of the stream lives at ring[n mod capacity]
 * ```
 */
import { RelayBufferError } from './errors.js';

/**
 * Default capacity of each ring. 16 KiB holds any request the protocols accept in one piece except large
 * bodies, which stream through in ring-sized steps; it keeps a thousand relayed connections at 32 MiB.
 */
export const DEFAULT_RING_CAPACITY = 16 * 1024;
/** Smallest ring we accept: below this, every HTTP header block would need several hand-offs. */
export const MIN_RING_CAPACITY = 256;
/** Largest ring: positions are Int32 differences, so capacity must stay far below 2^31. */
export const MAX_RING_CAPACITY = 64 * 1024 * 1024;

const CONTROL_WORDS = 16;
const CONTROL_BYTES = CONTROL_WORDS * 4;

/** Bumped by the main thread after any change the worker may be waiting for. */
export const CTRL_WAKE_WORKER = 0;
/** Bumped by the worker after any change the main thread may be waiting for. */
export const CTRL_WAKE_MAIN = 1;
/** Bytes ever written into the inbound ring (main thread writes). */
export const CTRL_IN_HEAD = 2;
/** Bytes ever read from the inbound ring (worker writes). */
export const CTRL_IN_TAIL = 3;
/** Bytes ever written into the outbound ring (worker writes). */
export const CTRL_OUT_HEAD = 4;
/** Bytes ever taken from the outbound ring (main thread writes). */
export const CTRL_OUT_TAIL = 5;
/** Main → worker state bits: FLAG_PEER_EOF, FLAG_DRAIN, FLAG_ABORT. */
export const CTRL_MAIN_FLAGS = 6;
/** Worker → main: 1 once the worker will write no more and wants the connection closed. */
export const CTRL_WORKER_CLOSED = 7;
/** 1 while the main thread has paused the socket because the inbound ring is full. */
export const CTRL_MAIN_PAUSED = 8;
export const CTRL_IN_CAPACITY = 9;
export const CTRL_OUT_CAPACITY = 10;

/** The peer sent FIN: bytes already in the ring are the last ones. */
export const FLAG_PEER_EOF = 1;
/** The server is draining: finish what was received, then close instead of waiting for more. */
export const FLAG_DRAIN = 2;
/** The connection is gone (reset, destroyed, forced close): stop now. */
export const FLAG_ABORT = 4;

export interface RelayCapacities {
  /** Bytes the main thread may buffer for the worker before it pauses the socket (backpressure). */
  readonly inbound?: number;
  /** Bytes the worker may buffer for the socket before its `write()` blocks (backpressure). */
  readonly outbound?: number;
}

/** Allocates the shared memory for one relayed connection. */
export function createRelayBuffer(capacities: RelayCapacities = {}): SharedArrayBuffer {
  const inbound = checkCapacity(capacities.inbound ?? DEFAULT_RING_CAPACITY, 'inbound');
  const outbound = checkCapacity(capacities.outbound ?? DEFAULT_RING_CAPACITY, 'outbound');
  const sab = new SharedArrayBuffer(CONTROL_BYTES + inbound + outbound);
  const ctrl = new Int32Array(sab, 0, CONTROL_WORDS);
  ctrl[CTRL_IN_CAPACITY] = inbound;
  ctrl[CTRL_OUT_CAPACITY] = outbound;
  return sab;
}

function checkCapacity(value: number, name: string): number {
  // A power of two, because positions wrap at 2^32 and `pos mod capacity` must stay continuous there.
  const powerOfTwo = Number.isInteger(value) && value > 0 && (value & (value - 1)) === 0;
  if (!powerOfTwo || value < MIN_RING_CAPACITY || value > MAX_RING_CAPACITY) {
    throw new RelayBufferError(
      `${name} ring capacity must be a power of two in [${MIN_RING_CAPACITY}, ${MAX_RING_CAPACITY}], got ${value}`,
      0,
    );
  }
  return value;
}

/** Typed views over a relay buffer; both sides build one. */
export interface RelayViews {
  readonly ctrl: Int32Array;
  readonly inbound: Uint8Array;
  readonly outbound: Uint8Array;
}

export function relayViews(sab: SharedArrayBuffer): RelayViews {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < CONTROL_BYTES + 2 * MIN_RING_CAPACITY) {
    throw new RelayBufferError('not a relay buffer', (sab as { byteLength?: number })?.byteLength ?? 0);
  }
  const ctrl = new Int32Array(sab, 0, CONTROL_WORDS);
  const inCap = ctrl[CTRL_IN_CAPACITY]!;
  const outCap = ctrl[CTRL_OUT_CAPACITY]!;
  if (CONTROL_BYTES + inCap + outCap !== sab.byteLength) {
    throw new RelayBufferError('relay buffer capacities do not match its size', sab.byteLength);
  }
  return {
    ctrl,
    inbound: new Uint8Array(sab, CONTROL_BYTES, inCap),
    outbound: new Uint8Array(sab, CONTROL_BYTES + inCap, outCap),
  };
}

/** Bumps a wake word and wakes whoever sleeps on it (Atomics.wait or Atomics.waitAsync). */
export function wake(ctrl: Int32Array, word: number): void {
  Atomics.add(ctrl, word, 1);
  Atomics.notify(ctrl, word);
}

/**
 * Copies `src` into `ring` starting at stream position `pos`, wrapping at the end. The caller has checked
 * that the free space is at least `src.length`.
 */
export function ringWrite(ring: Uint8Array, pos: number, src: Uint8Array): void {
  const at = (pos >>> 0) & (ring.length - 1);
  const first = Math.min(src.length, ring.length - at);
  ring.set(src.subarray(0, first), at);
  if (first < src.length) ring.set(src.subarray(first), 0);
}

/** Copies `length` bytes out of `ring` from stream position `pos` into `dst` (wrapping). */
export function ringRead(ring: Uint8Array, pos: number, dst: Uint8Array, length: number): void {
  const at = (pos >>> 0) & (ring.length - 1);
  const first = Math.min(length, ring.length - at);
  dst.set(ring.subarray(at, at + first), 0);
  if (first < length) dst.set(ring.subarray(0, length - first), first);
}

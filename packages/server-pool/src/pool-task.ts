import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import type { Operation, ProtocolName, SessionRejection } from '@iolab/protocols';
import type { ConnectionFailureCode, ReadTimeouts } from '@iolab/server-core';

/**
 * The two kinds of piscina task. Connection mode hands a whole connection (its relay buffer) to a pool
 * thread; request mode hands one operation.
 */
export type PoolTask =
  | {
      readonly kind: 'connection';
      readonly protocol: ProtocolName;
      readonly relay: SharedArrayBuffer;
      readonly counters: SharedArrayBuffer;
      readonly timeouts: ReadTimeouts;
      readonly acceptedAt: number;
    }
  | {
      readonly kind: 'owned-connection';
      readonly protocol: ProtocolName;
      /** Transferred with the task: the pool thread owns it. */
      readonly socket: Socket;
      /** Carries 'drain' from the accepting thread. */
      readonly control: MessagePort;
      readonly counters: SharedArrayBuffer;
      readonly timeouts: ReadTimeouts;
      readonly acceptedAt: number;
    }
  | { readonly kind: 'operation'; readonly op: Operation };

/**
 * What a connection task (relay or owned) returns: the failures it caught (already counted in the shared counters), for
 * the main thread to log. At most `MAX_REPORTED_FAILURES`: a connection ends at its first session failure,
 * and handler failures close it too, so more than one is rare.
 */
export interface ConnectionTaskResult {
  readonly failures: readonly { readonly code: ConnectionFailureCode; readonly message: string }[];
  /** The session refused the connection's input (counted in the shared counters already). */
  readonly rejected?: SessionRejection;
}

export const MAX_REPORTED_FAILURES = 4;

/**
 * A fresh copy of `bytes` in an ArrayBuffer of exactly its size, made only to be transferred.
 *
 * Transferring detaches the buffer for *every* holder, so a model may transfer only a buffer it allocated
 * itself. A body a session hands out is lent, not given: it may be the parser's one shared empty body or
 * a view of a buffer someone reuses. Transferring the lent body itself is what killed the process in
 * issue 9 (`Content-Length: 0` then a 5-byte body on one connection: the first request's empty body was
 * the parser's shared `EMPTY_BODY`, its buffer was detached, and the next `#appendBody` threw). The copy
 * costs what structured clone would cost anyway (one memcpy of the body), and only the copy moves.
 */
export function transferableCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * `bytes`, or a copy of exactly its bytes when it is a view into a bigger buffer, for a value that is
 * *cloned* across threads (piscina clones a task's return value): a clone copies the whole backing buffer,
 * so a view of a big buffer would ship all of it. Never use this for a transfer list: it may return the
 * caller's own buffer (see `transferableCopy`).
 */
export function cloneableCopy(bytes: Uint8Array): Uint8Array {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    !(bytes.buffer instanceof SharedArrayBuffer)
  ) {
    return bytes;
  }
  return new Uint8Array(bytes);
}

import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import type { Operation, ProtocolName } from '@iolab/protocols';
import type { ReadTimeouts } from '@iolab/server-core';

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
 * A copy of `bytes` that owns its whole ArrayBuffer, so it can be transferred rather than cloned. A view
 * into a bigger buffer (a Buffer-pool slab, a parser's input) cannot be transferred without detaching
 * bytes that are not ours, and structured clone would copy the whole backing buffer anyway.
 */
export function ownedCopy(bytes: Uint8Array): Uint8Array {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    !(bytes.buffer instanceof SharedArrayBuffer)
  ) {
    return bytes;
  }
  return new Uint8Array(bytes);
}

/**
 * What crosses between the accepting thread and a BIO thread. Types only: both sides import them, and
 * the thread's bundle stays free of the server's code.
 *
 *   main ──workerData { first connection }──► thread   (a new thread starts with its first connection)
 *   main ◄──────── failure / rejected ──────── thread   (logged by the main thread, counted by the thread)
 *   main ◄──────────────── idle ─────────────── thread   (its connection is over; it waits for the next)
 *   main ──── connection { socket | relay } ──► thread   (an idle thread takes the next connection)
 *   main ─────────────── drain ───────────────► thread   (owned mode: finish at a request boundary)
 *   main ─────────────── exit ────────────────► thread   (keep-alive over, or the server is closing)
 */
import type { Socket } from 'node:net';
import type { ProtocolName, SessionRejection } from '@iolab/protocols';
import type { ConnectionFailureCode, ReadTimeouts } from '@iolab/server-core';

/** One connection handed to a thread: the socket itself (owned mode) or its relay buffer (relay mode). */
export interface BioThreadConnection {
  readonly kind: 'connection';
  readonly socket?: Socket;
  readonly relay?: SharedArrayBuffer;
  /** `acceptedAtMs()` on the accepting thread: the first head's deadline counts from here. */
  readonly acceptedAt: number;
}

/** What a new BIO thread receives in `workerData`. */
export interface BioWorkerData {
  readonly protocol: ProtocolName;
  readonly counters: SharedArrayBuffer;
  readonly timeouts: ReadTimeouts;
  /** `threadKeepAliveMs` is 0: end the thread with its first connection instead of reporting idle. */
  readonly exitWhenDone: boolean;
  readonly first: BioThreadConnection;
}

/** Main thread → BIO thread, after `workerData`. */
export type BioThreadCommand = BioThreadConnection | 'drain' | 'exit';

/** BIO thread → main thread: the server failed on its connection (already counted in `counters`). */
export interface BioFailureMessage {
  readonly kind: 'failure';
  readonly code: ConnectionFailureCode;
  readonly message: string;
}

/** BIO thread → main thread: the session refused its connection's input (already counted). */
export interface BioRejectedMessage {
  readonly kind: 'rejected';
  readonly rejection: SessionRejection;
}

/** BIO thread → main thread: its connection is closed; the thread waits for the next one. */
export interface BioIdleMessage {
  readonly kind: 'idle';
}

export type BioThreadReport = BioFailureMessage | BioRejectedMessage | BioIdleMessage;

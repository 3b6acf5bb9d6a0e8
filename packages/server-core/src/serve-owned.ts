/**
 * Owned mode: a handler thread serves a socket it owns (transferred from the accepting thread), with no
 * byte relayed. This is the closest Node gets to Java's blocking socket: the thread's event loop waits
 * on exactly one descriptor, so an idle thread sleeps in epoll_wait on its one socket the way a Java
 * thread sleeps in a blocked `read()` — and every handler runs inline, to completion, one after the
 * other (`runOperationSync`, `sleep` blocks the thread), so handler code stays sequential per connection.
 *
 *   main: accept ─► postMessage(socket, [socket]) ─► thread: 'data' ─► session ─► handler ─► write
 */
import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import type { ServerSession } from '@iolab/protocols';
import { blockingSleep, type Operation, type OperationResult, runOperationSync } from '@iolab/protocols';
import { type EventedOptions, serveEvented } from './serve-evented.js';

/** Messages the accepting thread sends on the control port. */
export type OwnedControl = 'drain';

function runNowBlocking(op: Operation): OperationResult {
  return runOperationSync(op, blockingSleep);
}

function runInline(op: Operation): Promise<OperationResult> {
  try {
    return Promise.resolve(runOperationSync(op, blockingSleep));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** One owned connection being served on this thread. */
export interface OwnedConnection {
  /** Close once nothing is in flight, after one loop turn (see below). */
  drain(): void;
  /** Resolves when the socket has closed, whatever the reason. */
  readonly closed: Promise<void>;
}

/**
 * Serves `socket` on this thread until it closes; the caller decides what carries 'drain' to it (a bio
 * thread that outlives its connection keeps one control channel for all of them).
 */
export function ownSocket(socket: Socket, session: ServerSession, options: EventedOptions): OwnedConnection {
  // A transferred socket arrives with Node's defaults; the peer's FIN must end requests, not our answers.
  socket.allowHalfOpen = true;
  socket.on('error', (error) => options.counters.addSocketError(error));
  const evented = serveEvented(socket, session, runInline, { ...options, runNow: runNowBlocking });
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
  });
  return {
    // One loop turn first: a thread that just took the socket over reads what already arrived (a whole
    // request the client sent before the shutdown) before it decides nothing is in flight.
    drain: () => setImmediate(() => evented.drain()),
    closed,
  };
}

/**
 * Serves `socket` on this thread until it closes. `control` (a port sent with a pool task) carries
 * 'drain' at shutdown; it does not keep the thread alive by itself, and is closed with the connection.
 */
export function serveOwned(
  socket: Socket,
  session: ServerSession,
  options: EventedOptions,
  control?: MessagePort,
): Promise<void> {
  const owned = ownSocket(socket, session, options);
  if (control) {
    control.on('message', (message: OwnedControl) => {
      if (message === 'drain') owned.drain();
    });
    control.unref();
  }
  return owned.closed.then(() => control?.close());
}

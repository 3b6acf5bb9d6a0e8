/**
 * The non-blocking connection driver shared by `loop` and pool request mode: the session lives on the
 * event loop, bytes are handled as they arrive, and each operation runs through `runOp` — a timer or
 * inline CPU in `loop`, a piscina task in pool request mode — and is completed whenever it finishes.
 */
import type { Socket } from 'node:net';
import type { Operation, OperationResult, ServerSession, SessionOutput } from '@iolab/protocols';
import { ConnectionFailedError, type ConnectionFailureCode } from './errors.js';
import type { SharedCounters } from './shared-counters.js';
import { closeAfterFlush } from './socket-close.js';

export type RunOperation = (op: Operation) => Promise<OperationResult>;

export interface EventedOptions {
  readonly counters: SharedCounters;
  /** Close a connection with nothing in flight after this long without bytes; 0 disables. */
  readonly idleTimeoutMs: number;
  /**
   * Called once per failure of the server on this connection (see `ConnectionFailureCode`); it counts and
   * logs (`ServerBase#connectionFailed`). Without it a failure is only counted.
   */
  readonly onFailure?: (code: ConnectionFailureCode, cause: unknown) => void;
  /** Written before closing when the session itself threw (`failureBytes(protocol)`: HTTP 500). */
  readonly failureBytes?: Uint8Array;
}

export interface EventedConnection {
  /** Close once nothing is in flight (now, if nothing is). */
  drain(): void;
}

export function serveEvented(
  socket: Socket,
  session: ServerSession,
  runOp: RunOperation,
  options: EventedOptions,
): EventedConnection {
  let closing = false;
  let draining = false;
  let pausedForDrain = false;
  let reading = true;

  // Read only while the peer drains our answers and the session is below its pipeline cap.
  const updateReading = (): void => {
    const want = !closing && !pausedForDrain && !session.inputPaused;
    if (want === reading) return;
    reading = want;
    if (want) socket.resume();
    else socket.pause();
  };

  const close = (): void => {
    if (closing) return;
    closing = true;
    closeAfterFlush(socket);
  };

  const failed = (code: ConnectionFailureCode, cause: unknown): void => {
    if (options.onFailure) options.onFailure(code, cause);
    else options.counters.addErrors();
  };

  /**
   * Runs one session call. A throw there is our bug, not the peer's bytes, and the session's state is now
   * unknown: answer 500 (HTTP; whole responses only were written before, so this one is well-formed on the
   * wire), close this connection, and let every other connection carry on.
   */
  const guarded = (call: () => SessionOutput): void => {
    let output: SessionOutput;
    try {
      output = call();
    } catch (err) {
      failed('IOLAB_SERVER_SESSION_FAILED', err);
      if (!closing && !socket.destroyed && options.failureBytes && options.failureBytes.length > 0) {
        socket.write(options.failureBytes);
      }
      close();
      return;
    }
    apply(output);
  };

  // A handler failed: it is answered 500 in order, then the connection ends once nothing is in flight
  // (as a drain does): a handler that threw may have left state we no longer trust for this peer.
  const handlerFailed = (id: number, err: unknown): void => {
    // A runner that knows better (the pool: thread or dispatch failure) says so with its own code.
    if (err instanceof ConnectionFailedError) failed(err.code, err.cause);
    else failed('IOLAB_SERVER_HANDLER_FAILED', err);
    draining = true;
    finish(id, { ok: false, status: 500, message: 'IOLAB_SERVER_HANDLER_FAILED: internal server error' });
  };

  const apply = (output: SessionOutput): void => {
    if (closing) return;
    for (const bytes of output.send) {
      // Backpressure: stop reading a peer that does not read our answers; resume on 'drain'.
      if (!socket.write(bytes) && !pausedForDrain) {
        pausedForDrain = true;
        socket.once('drain', () => {
          pausedForDrain = false;
          updateReading();
        });
      }
    }
    if (output.close) {
      close();
      return;
    }
    for (const work of output.work) {
      let pending: Promise<OperationResult>;
      try {
        pending = runOp(work.op);
      } catch (err) {
        pending = Promise.reject(err); // a runner that throws instead of rejecting
      }
      pending
        .then(
          (result) => finish(work.id, result),
          (err: unknown) => handlerFailed(work.id, err),
        )
        .catch((err: unknown) => {
          // Last line: nothing thrown on this path may become an unhandled rejection (which ends Node).
          failed('IOLAB_SERVER_SESSION_FAILED', err);
          close();
        });
    }
    if ((draining || socket.readableEnded) && session.pending === 0) close();
    else updateReading();
  };

  const finish = (id: number, result: OperationResult): void => {
    options.counters.addRequests();
    if (closing || socket.destroyed) return;
    guarded(() => session.complete(id, result));
  };

  socket.on('data', (chunk: Buffer) => {
    if (!closing) guarded(() => session.receive(chunk));
  });
  socket.on('end', () => {
    if (closing) return;
    guarded(() => session.peerEnded());
    if (session.pending === 0) close();
  });
  if (options.idleTimeoutMs > 0) {
    socket.setTimeout(options.idleTimeoutMs, () => {
      if (session.pending === 0) close();
    });
  }

  return {
    drain: () => {
      draining = true;
      if (session.pending === 0) close();
    },
  };
}

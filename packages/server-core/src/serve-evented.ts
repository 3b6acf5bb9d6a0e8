/**
 * The non-blocking connection driver shared by `loop` and pool request mode: the session lives on the
 * event loop, bytes are handled as they arrive, and each operation runs through `runOp` — a timer or
 * inline CPU in `loop`, a piscina task in pool request mode — and is completed whenever it finishes.
 */
import type { Socket } from 'node:net';
import type { Operation, OperationResult, ServerSession, SessionOutput } from '@iolab/protocols';
import type { SharedCounters } from './shared-counters.js';
import { closeAfterFlush } from './socket-close.js';

export type RunOperation = (op: Operation) => Promise<OperationResult>;

export interface EventedOptions {
  readonly counters: SharedCounters;
  /** Close a connection with nothing in flight after this long without bytes; 0 disables. */
  readonly idleTimeoutMs: number;
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
      runOp(work.op).then(
        (result) => finish(work.id, result),
        (err: unknown) => {
          options.counters.addErrors();
          finish(work.id, {
            ok: false,
            status: 500,
            message: err instanceof Error ? err.message : String(err),
          });
        },
      );
    }
    if ((draining || socket.readableEnded) && session.pending === 0) close();
    else updateReading();
  };

  const finish = (id: number, result: OperationResult): void => {
    options.counters.addRequests();
    if (closing || socket.destroyed) return;
    apply(session.complete(id, result));
  };

  socket.on('data', (chunk: Buffer) => {
    if (!closing) apply(session.receive(chunk));
  });
  socket.on('end', () => {
    if (closing) return;
    apply(session.peerEnded());
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

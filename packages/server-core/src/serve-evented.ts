/**
 * The non-blocking connection driver shared by `loop` and pool request mode: the session lives on the
 * event loop, bytes are handled as they arrive, and each operation runs through `runOp` — a timer or
 * inline CPU in `loop`, a piscina task in pool request mode — and is completed whenever it finishes.
 */
import type { Socket } from 'node:net';
import type { Operation, OperationResult, ServerSession, SessionOutput } from '@iolab/protocols';
import { expireDeadline, ReadDeadline, type ReadTimeouts } from './read-deadline.js';
import type { SharedCounters } from './shared-counters.js';
import { closeAfterFlush } from './socket-close.js';

export type RunOperation = (op: Operation) => Promise<OperationResult>;
/** Runs an operation at once if it can (no I/O wait): its result, or `undefined` to go through `runOp`. */
export type RunOperationNow = (op: Operation) => OperationResult | undefined;

export interface EventedOptions {
  readonly counters: SharedCounters;
  /** Header and idle deadlines (see `ReadDeadline`); each 0 disables. */
  readonly timeouts: ReadTimeouts;
  /** `acceptedAtMs()` when another thread accepted the socket; default: now. */
  readonly acceptedAt?: number;
  /**
   * The fast path: operations this returns a result for complete inline, without a Promise, two closures
   * and a microtask per request (the loop's /plaintext at 50k req/s pays for each). A throw counts as a
   * failed handler (500), as a rejected `runOp` does.
   */
  readonly runNow?: RunOperationNow;
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
    clearTimer();
    closeAfterFlush(socket);
  };

  // One timer per connection, moved only when the deadline comes *earlier* than it is set for; a later
  // deadline (the next idle period after each request) is found when the timer fires and re-arms. So a
  // busy keep-alive connection costs one clock read per request, not a timer operation.
  const deadline = new ReadDeadline(options.timeouts, options.acceptedAt);
  let timer: NodeJS.Timeout | undefined;
  let grace: NodeJS.Immediate | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  const clearTimer = (): void => {
    clearTimeout(timer);
    clearImmediate(grace);
    timer = undefined;
    grace = undefined;
  };
  const arm = (): void => {
    const at = deadline.at;
    if (at >= timerAt || closing) return;
    clearTimer();
    timerAt = at;
    timer = setTimeout(onTimer, Math.max(0, deadline.remaining()));
    timer.unref(); // the listening server keeps the process alive, not a connection's deadline
  };
  let graced = false;
  const onTimer = (): void => {
    timer = undefined;
    grace = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    if (closing || socket.destroyed) return;
    if (deadline.remaining() > 0) {
      arm();
      return;
    }
    if (!graced) {
      // Timers run before I/O in a loop turn: a thread that took the socket over after its deadline
      // (a slow start, a queued pool task) reads what already arrived before judging it, as a blocking
      // read would. One check-phase turn is enough for bytes already in the kernel buffer.
      graced = true;
      grace = setImmediate(onTimer);
      return;
    }
    const kind = deadline.kind;
    if (kind !== 'busy') apply(expireDeadline(session, kind, options.counters), false);
  };

  const apply = (output: SessionOutput, bytes: boolean): void => {
    if (closing) return;
    deadline.update(session, bytes);
    arm();
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
    const runNow = options.runNow;
    for (const work of output.work) {
      if (runNow !== undefined) {
        let result: OperationResult | undefined;
        try {
          result = runNow(work.op);
        } catch (err) {
          options.counters.addErrors();
          result = { ok: false, status: 500, message: err instanceof Error ? err.message : String(err) };
        }
        if (result !== undefined) {
          finish(work.id, result);
          if (closing) return;
          continue;
        }
      }
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
    apply(session.complete(id, result), false);
  };

  socket.on('data', (chunk: Buffer) => {
    if (!closing) apply(session.receive(chunk), true);
  });
  socket.on('end', () => {
    if (closing) return;
    apply(session.peerEnded(), false);
    if (session.pending === 0) close();
  });
  socket.once('close', clearTimer);
  arm();

  return {
    drain: () => {
      draining = true;
      if (session.pending === 0) close();
    },
  };
}

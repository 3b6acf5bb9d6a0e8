/**
 * The non-blocking connection driver shared by `loop` and pool request mode: the session lives on the
 * event loop, bytes are handled as they arrive, and each operation runs through `runOp` — a timer or
 * inline CPU in `loop`, a piscina task in pool request mode — and is completed whenever it finishes.
 */
import type { Socket } from 'node:net';
import type {
  Operation,
  OperationResult,
  ServerSession,
  SessionOutput,
  SessionRejection,
  Work,
} from '@iolab/protocols';
import { ConnectionFailedError, type ConnectionFailureCode } from './errors.js';
import { expireDeadline, ReadDeadline, type ReadTimeouts } from './read-deadline.js';
import type { SharedCounters } from './shared-counters.js';
import { closeAfterFlush } from './socket-close.js';
import { forgetTurnTime, turnNow } from './turn-clock.js';

export type RunOperation = (op: Operation) => Promise<OperationResult>;

/** Pipelined responses up to this many bytes are copied into one buffer for one write (bare `net` servers do
 * the same); above it they go out corked, as one writev, without the copy. */
const COALESCE_WRITE_BYTES = 64 * 1024;

/** What a throwing inline handler is answered with, in its place in line (as a rejected `runOp` is). */
const HANDLER_FAILED_RESULT: OperationResult = Object.freeze({
  ok: false,
  status: 500,
  message: 'IOLAB_SERVER_HANDLER_FAILED: internal server error',
});
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
   * failed handler (500 in order, then close once nothing is in flight), as a rejected `runOp` does.
   * Runs per `Work`, and each answer is written as soon as it is made.
   */
  readonly runNow?: RunOperationNow;
  /**
   * The faster path, for operations that cost no more than parsing them (no wait, no real CPU work): a
   * session with `runInline` (HTTP) runs them while it parses, so such a request costs no `Work`, no
   * second session call, no queue slot and no allocation. Answers made in one session call are written
   * together after it, so an operation that takes time (`cpu`, a blocking `sleep`) belongs in `runNow`,
   * where an earlier pipelined answer is written before it runs. A throw counts as for `runNow`.
   */
  readonly runWhileParsing?: RunOperationNow;
  /**
   * Called once per failure of the server on this connection (see `ConnectionFailureCode`); it counts and
   * logs (`ServerBase#connectionFailed`). Without it a failure is only counted.
   */
  readonly onFailure?: (code: ConnectionFailureCode, cause: unknown) => void;
  /**
   * Called once if the session refused this connection's input (`session.rejected`), after it is counted
   * in `counters.rejected`: it logs (`ServerBase#connectionRejected`, or a worker's report to the main thread).
   */
  readonly onRejected?: (rejection: SessionRejection) => void;
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
  /** The peer's FIN arrived ('end'): close once what is in flight is answered. */
  let peerEnded = false;
  // Requests answered inside the session's own call (`runInline`): counted once per call, not per request.
  let answeredInline = 0;

  // Read only while the peer drains our answers and the session is below its pipeline cap.
  const updateReading = (): void => {
    const want = !closing && !pausedForDrain && !session.inputPaused;
    if (want === reading) return;
    reading = want;
    if (want) socket.resume();
    else socket.pause();
  };

  // Counted once per connection, when it closes (by us or by the peer): the refusal's reply may wait
  // behind answers still owed, and a peer may go away before we close.
  let rejectionNoted = false;
  const noteRejected = (): void => {
    const rejection = session.rejected;
    if (rejectionNoted || rejection === undefined) return;
    rejectionNoted = true;
    options.counters.addRejected();
    options.onRejected?.(rejection);
  };

  const close = (): void => {
    if (closing) return;
    closing = true;
    clearTimer();
    noteRejected();
    closeAfterFlush(socket);
  };

  const failed = (code: ConnectionFailureCode, cause: unknown): void => {
    if (options.onFailure) options.onFailure(code, cause);
    else options.counters.addErrors();
  };

  /**
   * Runs one session call. A throw there is our bug, not the peer's bytes, and the session's state is now
   * unknown: answer 500 (HTTP; whole responses only were written before, so this one is well-formed on the
   * wire), close this connection, and let every other connection carry on. `bytes`: the call consumed
   * bytes from the peer (for the read deadline).
   */
  const guarded = (call: () => SessionOutput, bytes: boolean): void => {
    let output: SessionOutput;
    try {
      output = call();
    } catch (err) {
      sessionFailed(err);
      return;
    }
    apply(output, bytes);
  };
  const sessionFailed = (err: unknown): void => {
    failed('IOLAB_SERVER_SESSION_FAILED', err);
    if (!closing && !socket.destroyed && options.failureBytes && options.failureBytes.length > 0) {
      socket.write(options.failureBytes);
    }
    close();
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

  // One timer per connection, moved only when the deadline comes *earlier* than it is set for; a later
  // deadline (the next idle period after each request) is found when the timer fires and re-arms. So a
  // busy keep-alive connection costs no timer operation per request, and its clock is read once per
  // loop turn for all connections (`turnNow`).
  const deadline = new ReadDeadline(options.timeouts, options.acceptedAt, turnNow);
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
    if (kind !== 'busy') guarded(() => expireDeadline(session, kind, options.counters), false);
  };

  const write = (bytes: Uint8Array): void => {
    // Backpressure: stop reading a peer that does not read our answers; resume on 'drain'.
    if (!socket.write(bytes) && !pausedForDrain) {
      pausedForDrain = true;
      socket.once('drain', () => {
        pausedForDrain = false;
        updateReading();
      });
    }
  };

  // One write per session call: a pipelined batch of small answers is copied into one buffer, a large
  // one goes out corked (one writev). One answer is written as it is, no copy.
  const writeAll = (send: readonly Uint8Array[]): void => {
    let total = 0;
    for (const b of send) total += b.length;
    if (total <= COALESCE_WRITE_BYTES) {
      write(Buffer.concat(send, total));
    } else {
      socket.cork();
      for (const b of send) write(b);
      socket.uncork();
    }
  };

  // Written for the common call (one answer, nothing to run) to stay small enough for the JIT to inline
  // what it calls; work and batches go through their own functions.
  const apply = (output: SessionOutput, bytes: boolean): void => {
    const answered = answeredInline;
    if (answered > 0) {
      answeredInline = 0;
      options.counters.addRequestsThisTurn(answered);
    }
    if (closing) return;
    deadline.update(session, bytes, answered > 0);
    arm();
    const send = output.send;
    if (send.length === 1) write(send[0]!);
    else if (send.length > 1) writeAll(send);
    if (output.close) {
      close();
      return;
    }
    if (output.work.length > 0 && !runWork(output.work)) return;
    if ((draining || peerEnded) && session.pending === 0) close();
    else updateReading();
  };

  /** Runs (or starts) each operation; false if the connection began closing meanwhile. */
  const runWork = (work: readonly Work[]): boolean => {
    const runNow = options.runNow;
    for (const item of work) {
      if (runNow !== undefined) {
        let result: OperationResult | undefined;
        try {
          result = runNow(item.op);
        } catch (err) {
          forgetTurnTime();
          // The same as a rejected `runOp`: 500 in request order, then close once nothing is in flight.
          handlerFailed(item.id, err);
          if (closing) return false;
          continue;
        }
        // The handler may have run for a while (`/cpu`, a blocking `sleep`): later reads in this turn
        // must not take the time from before it.
        forgetTurnTime();
        if (result !== undefined) {
          finish(item.id, result);
          if (closing) return false;
          continue;
        }
      }
      let pending: Promise<OperationResult>;
      try {
        pending = runOp(item.op);
      } catch (err) {
        pending = Promise.reject(err); // a runner that throws instead of rejecting
      }
      forgetTurnTime(); // a runner may have run the handler before returning (owned mode)
      pending
        .then(
          (result) => finish(item.id, result),
          (err: unknown) => handlerFailed(item.id, err),
        )
        .catch((err: unknown) => {
          // Last line: nothing thrown on this path may become an unhandled rejection (which ends Node).
          failed('IOLAB_SERVER_SESSION_FAILED', err);
          close();
        });
    }
    return true;
  };

  const finish = (id: number, result: OperationResult): void => {
    options.counters.addRequests();
    if (closing || socket.destroyed) return;
    guarded(() => session.complete(id, result), false);
  };

  const runWhileParsing = options.runWhileParsing;
  if (runWhileParsing !== undefined && session.runInline !== undefined) {
    session.runInline((op) => {
      let result: OperationResult | undefined;
      try {
        result = runWhileParsing(op);
      } catch (err) {
        // As `handlerFailed`: counted and logged, 500 in its place, close once nothing is in flight.
        if (err instanceof ConnectionFailedError) failed(err.code, err.cause);
        else failed('IOLAB_SERVER_HANDLER_FAILED', err);
        draining = true;
        result = HANDLER_FAILED_RESULT;
      }
      if (result !== undefined) answeredInline++;
      return result;
    });
  }

  // The hot path (every read of every connection), written without a closure per chunk.
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    let output: SessionOutput;
    try {
      output = session.receive(chunk);
    } catch (err) {
      sessionFailed(err);
      return;
    }
    apply(output, true);
  });
  socket.on('end', () => {
    peerEnded = true;
    if (closing) return;
    guarded(() => session.peerEnded(), false);
    if (session.pending === 0) close();
  });
  socket.once('close', () => {
    clearTimer();
    noteRejected();
  });
  arm();

  return {
    drain: () => {
      draining = true;
      if (session.pending === 0) close();
    },
  };
}

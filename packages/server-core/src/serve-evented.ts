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
  const connection = new EventedDriver(socket, session, runOp, options);
  return { drain: () => connection.drain() };
}

/**
 * One connection's driver. A class, not closures over the connection's variables, for the cache: with 64
 * connections taking turns, each request finds this connection's objects evicted by the other 63, so
 * what a request costs is mostly how many cache lines it touches. As closures, every helper the hot path
 * calls was a function object of its own per connection (the JIT checks each one's identity before it
 * inlines it) in a context of ~30 slots; as a class, the methods are shared by all connections and the
 * state a request reads sits in one object, hottest fields first (V8 lays fields out in declaration order).
 */
class EventedDriver {
  // ── Read or written by every request: keep these first and together. ──
  #closing = false;
  /** Requests answered inside the session's own call (`runInline`): counted once per call, not per request. */
  #answeredInline = 0;
  #pausedForDrain = false;
  #reading = true;
  #draining = false;
  /** The peer's FIN arrived ('end'): close once what is in flight is answered. */
  #peerEnded = false;
  #timer: NodeJS.Timeout | undefined = undefined;
  /**
   * When `#timer` fires (ms on the deadline's clock). Never Infinity: a field that only ever holds small
   * integers is stored in place, while any other number is a separate heap box, one more cache line per
   * request (`turnNow` gives whole milliseconds for the same reason).
   */
  #timerAt = 0;
  readonly #session: ServerSession;
  readonly #socket: Socket;
  readonly #counters: SharedCounters;
  readonly #deadline: ReadDeadline;
  // ── The rest: timers, failures, work. ──
  readonly #runOp: RunOperation;
  readonly #options: EventedOptions;
  #grace: NodeJS.Immediate | undefined = undefined;
  #graced = false;
  #rejectionNoted = false;

  constructor(socket: Socket, session: ServerSession, runOp: RunOperation, options: EventedOptions) {
    this.#session = session;
    this.#socket = socket;
    this.#counters = options.counters;
    // One timer per connection, moved only when the deadline comes *earlier* than it is set for; a later
    // deadline (the next idle period after each request) is found when the timer fires and re-arms. So a
    // busy keep-alive connection costs no timer operation per request, and its clock is read once per
    // loop turn for all connections (`turnNow`).
    this.#deadline = new ReadDeadline(options.timeouts, options.acceptedAt, turnNow);
    this.#runOp = runOp;
    this.#options = options;

    const runWhileParsing = options.runWhileParsing;
    if (runWhileParsing !== undefined && session.runInline !== undefined) {
      session.runInline((op) => this.#runWhileParsing(runWhileParsing, op));
    }
    // The hot path (every read of every connection), written without a closure per chunk.
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.once('close', () => {
      this.#clearTimer();
      this.#noteRejected();
    });
    this.#arm();
  }

  /** Close once nothing is in flight (now, if nothing is). */
  drain(): void {
    this.#draining = true;
    if (this.#session.pending === 0) this.#close();
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    let output: SessionOutput;
    try {
      output = this.#session.receive(chunk);
    } catch (err) {
      this.#sessionFailed(err);
      return;
    }
    this.#apply(output, true);
  }

  #onEnd(): void {
    this.#peerEnded = true;
    if (this.#closing) return;
    this.#guarded(() => this.#session.peerEnded(), false);
    if (this.#session.pending === 0) this.#close();
  }

  #runWhileParsing(runWhileParsing: RunOperationNow, op: Operation): OperationResult | undefined {
    let result: OperationResult | undefined;
    try {
      result = runWhileParsing(op);
    } catch (err) {
      // As `#handlerFailed`: 500 in its place, close once nothing is in flight.
      this.#handlerThrew(err);
      result = HANDLER_FAILED_RESULT;
    }
    if (result !== undefined) this.#answeredInline++;
    return result;
  }

  // Read only while the peer drains our answers and the session is below its pipeline cap.
  #updateReading(): void {
    const want = !this.#closing && !this.#pausedForDrain && !this.#session.inputPaused;
    if (want === this.#reading) return;
    this.#reading = want;
    if (want) this.#socket.resume();
    else this.#socket.pause();
  }

  // Counted once per connection, when it closes (by us or by the peer): the refusal's reply may wait
  // behind answers still owed, and a peer may go away before we close.
  #noteRejected(): void {
    const rejection = this.#session.rejected;
    if (this.#rejectionNoted || rejection === undefined) return;
    this.#rejectionNoted = true;
    this.#counters.addRejected();
    this.#options.onRejected?.(rejection);
  }

  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#clearTimer();
    this.#noteRejected();
    closeAfterFlush(this.#socket);
  }

  #failed(code: ConnectionFailureCode, cause: unknown): void {
    const onFailure = this.#options.onFailure;
    if (onFailure) onFailure(code, cause);
    else this.#counters.addErrors();
  }

  /**
   * Runs one session call. A throw there is our bug, not the peer's bytes, and the session's state is now
   * unknown: answer 500 (HTTP; whole responses only were written before, so this one is well-formed on the
   * wire), close this connection, and let every other connection carry on. `bytes`: the call consumed
   * bytes from the peer (for the read deadline).
   */
  #guarded(call: () => SessionOutput, bytes: boolean): void {
    let output: SessionOutput;
    try {
      output = call();
    } catch (err) {
      this.#sessionFailed(err);
      return;
    }
    this.#apply(output, bytes);
  }

  #sessionFailed(err: unknown): void {
    this.#failed('IOLAB_SERVER_SESSION_FAILED', err);
    const failureBytes = this.#options.failureBytes;
    if (!this.#closing && !this.#socket.destroyed && failureBytes && failureBytes.length > 0) {
      this.#socket.write(failureBytes);
    }
    this.#close();
  }

  // A handler failed: it is answered 500 in order, then the connection ends once nothing is in flight
  // (as a drain does): a handler that threw may have left state we no longer trust for this peer.
  #handlerFailed(id: number, err: unknown): void {
    this.#handlerThrew(err);
    this.#finish(id, HANDLER_FAILED_RESULT);
  }

  /** Counts and logs a handler's failure, and ends the connection once nothing is in flight. */
  #handlerThrew(err: unknown): void {
    // A runner that knows better (the pool: thread or dispatch failure) says so with its own code.
    if (err instanceof ConnectionFailedError) this.#failed(err.code, err.cause);
    else this.#failed('IOLAB_SERVER_HANDLER_FAILED', err);
    this.#draining = true;
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#grace);
    this.#timer = undefined;
    this.#grace = undefined;
  }

  #arm(): void {
    const at = this.#deadline.at;
    if (at === Number.POSITIVE_INFINITY || (this.#timer !== undefined && at >= this.#timerAt)) return;
    if (this.#closing) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, this.#deadline.remaining()));
    this.#timer.unref(); // the listening server keeps the process alive, not a connection's deadline
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#grace = undefined;
    if (this.#closing || this.#socket.destroyed) return;
    if (this.#deadline.remaining() > 0) {
      this.#arm();
      return;
    }
    if (!this.#graced) {
      // Timers run before I/O in a loop turn: a thread that took the socket over after its deadline
      // (a slow start, a queued pool task) reads what already arrived before judging it, as a blocking
      // read would. One check-phase turn is enough for bytes already in the kernel buffer.
      this.#graced = true;
      this.#grace = setImmediate(() => this.#onTimer());
      return;
    }
    const kind = this.#deadline.kind;
    if (kind !== 'busy') {
      this.#guarded(() => expireDeadline(this.#session, kind, this.#counters), false);
    }
  }

  #write(bytes: Uint8Array): void {
    // Backpressure: stop reading a peer that does not read our answers; resume on 'drain'.
    if (!this.#socket.write(bytes) && !this.#pausedForDrain) {
      this.#pausedForDrain = true;
      this.#socket.once('drain', () => {
        this.#pausedForDrain = false;
        this.#updateReading();
      });
    }
  }

  // One write per session call: a pipelined batch of small answers is copied into one buffer, a large
  // one goes out corked (one writev). One answer is written as it is, no copy.
  #writeAll(send: readonly Uint8Array[]): void {
    let total = 0;
    for (const b of send) total += b.length;
    if (total <= COALESCE_WRITE_BYTES) {
      this.#write(Buffer.concat(send, total));
    } else {
      this.#socket.cork();
      for (const b of send) this.#write(b);
      this.#socket.uncork();
    }
  }

  // Written for the common call (one answer, nothing to run) to stay small enough for the JIT to inline
  // what it calls; work and batches go through their own methods.
  #apply(output: SessionOutput, bytes: boolean): void {
    const answered = this.#answeredInline;
    if (answered > 0) {
      this.#answeredInline = 0;
      this.#counters.addRequestsThisTurn(answered);
    }
    if (this.#closing) return;
    this.#deadline.update(this.#session, bytes, answered > 0);
    this.#arm();
    const send = output.send;
    if (send.length === 1) this.#write(send[0]!);
    else if (send.length > 1) this.#writeAll(send);
    if (output.close) {
      this.#close();
      return;
    }
    if (output.work.length > 0 && !this.#runWork(output.work)) return;
    if ((this.#draining || this.#peerEnded) && this.#session.pending === 0) this.#close();
    else this.#updateReading();
  }

  /** Runs (or starts) each operation; false if the connection began closing meanwhile. */
  #runWork(work: readonly Work[]): boolean {
    const runNow = this.#options.runNow;
    for (const item of work) {
      if (runNow !== undefined) {
        let result: OperationResult | undefined;
        try {
          result = runNow(item.op);
        } catch (err) {
          forgetTurnTime();
          // The same as a rejected `runOp`: 500 in request order, then close once nothing is in flight.
          this.#handlerFailed(item.id, err);
          if (this.#closing) return false;
          continue;
        }
        // The handler may have run for a while (`/cpu`, a blocking `sleep`): later reads in this turn
        // must not take the time from before it.
        forgetTurnTime();
        if (result !== undefined) {
          this.#finish(item.id, result);
          if (this.#closing) return false;
          continue;
        }
      }
      let pending: Promise<OperationResult>;
      try {
        pending = this.#runOp(item.op);
      } catch (err) {
        pending = Promise.reject(err); // a runner that throws instead of rejecting
      }
      forgetTurnTime(); // a runner may have run the handler before returning (owned mode)
      pending
        .then(
          (result) => this.#finish(item.id, result),
          (err: unknown) => this.#handlerFailed(item.id, err),
        )
        .catch((err: unknown) => {
          // Last line: nothing thrown on this path may become an unhandled rejection (which ends Node).
          this.#failed('IOLAB_SERVER_SESSION_FAILED', err);
          this.#close();
        });
    }
    return true;
  }

  #finish(id: number, result: OperationResult): void {
    this.#counters.addRequests();
    if (this.#closing || this.#socket.destroyed) return;
    this.#guarded(() => this.#session.complete(id, result), false);
  }
}

/**
 * Request, error, peer-reset, rejection and timeout counters that worker threads add to directly: a tiny
 * SharedArrayBuffer updated with Atomics, so `stats()` on the main thread needs no message round trip.
 *
 * Each counter is 64 bits kept as two Uint32 words, [low, high]:
 *
 *   word:  0        1         2       3        …
 *        [ requests.lo | requests.hi | errors.lo | errors.hi | … ]
 *
 * Why not one BigInt64 word: `Atomics.add` on a BigInt64Array boxes BigInts, ~390 instructions a call
 * under callgrind against ~120 on a Uint32Array, and the event loop adds once per read — at 100k reads a
 * second that was a tenth of its own per-request cost. The adder whose add carries the low word past
 * 2^32 adds the carry to the high word; a reader retries until the high word is stable. A reader racing
 * that one carry by nanoseconds may see the count 2^32 low, once every 4 billion counts.
 */
import { atTurnEnd } from './turn-clock.js';

const REQUESTS = 0;
const ERRORS = 1;
const HEADER_TIMEOUTS = 2;
const IDLE_TIMEOUTS = 3;
const REJECTED = 4;
const PEER_RESETS = 5;
const COUNTERS = 6;
const LOW_WORD_LIMIT = 2 ** 32;
/** A read races a carry at most once in 2^32 counts; a few retries always see it settled. */
const MAX_LOAD_ATTEMPTS = 8;

/**
 * Socket error codes that mean the peer went away (reset, or closed with our answer unread): the client's
 * doing — wrk closing its connections at the end of a run with requests in flight — not a server failure.
 */
const PEER_GONE_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export class SharedCounters {
  /** Pass this to worker threads (workerData or a task) and wrap it there with `new SharedCounters(buffer)`. */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Uint32Array;
  /** Requests added by `addRequestsThisTurn` and not yet in `#words`. */
  #requestsThisTurn = 0;
  readonly #flushTurn = (): void => {
    const n = this.#requestsThisTurn;
    this.#requestsThisTurn = 0;
    this.#add(REQUESTS, n);
  };

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(COUNTERS * 8)) {
    this.buffer = buffer;
    this.#words = new Uint32Array(buffer, 0, COUNTERS * 2);
  }

  /** One answered operation (a request that reached the application, whatever its outcome). */
  addRequests(n = 1): void {
    this.#add(REQUESTS, n);
  }

  /**
   * As `addRequests`, added to the shared words once at the end of this event-loop turn (`atTurnEnd`):
   * the loop answers 60k+ reads a second, and an atomic add per read cost ~180 instructions under
   * callgrind, a twentieth of a request's own. `requests` on this object counts them at once; another
   * thread sees them at most one turn later. Only on a thread whose event loop runs.
   */
  addRequestsThisTurn(n: number): void {
    if (this.#requestsThisTurn === 0) atTurnEnd(this.#flushTurn);
    this.#requestsThisTurn += n;
  }

  /** A socket error, a failed operation or a handler that crashed. */
  addErrors(n = 1): void {
    this.#add(ERRORS, n);
  }

  /** A socket error: a peer that went away is a reset, anything else the server's own error. */
  addSocketError(error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    this.#add(typeof code === 'string' && PEER_GONE_CODES.has(code) ? PEER_RESETS : ERRORS, 1);
  }

  get peerResets(): number {
    return this.#load(PEER_RESETS);
  }

  /** A request head (framed: a frame) or body that did not arrive in time: 408/error reply and close. */
  addHeaderTimeouts(n = 1): void {
    this.#add(HEADER_TIMEOUTS, n);
  }

  /** A keep-alive connection closed after its idle timeout. */
  addIdleTimeouts(n = 1): void {
    this.#add(IDLE_TIMEOUTS, n);
  }

  /** Peer input a session refused (bad bytes, a limit exceeded): answered 4xx / error reply, closed. */
  addRejected(n = 1): void {
    this.#add(REJECTED, n);
  }

  get rejected(): number {
    return this.#load(REJECTED);
  }

  get headerTimeouts(): number {
    return this.#load(HEADER_TIMEOUTS);
  }

  get idleTimeouts(): number {
    return this.#load(IDLE_TIMEOUTS);
  }

  get requests(): number {
    return this.#load(REQUESTS) + this.#requestsThisTurn;
  }

  get errors(): number {
    return this.#load(ERRORS);
  }

  /** `n` is a count of events in one call: far below 2^32. */
  #add(counter: number, n: number): void {
    const low = counter * 2;
    const before = Atomics.add(this.#words, low, n);
    if (before + n >= LOW_WORD_LIMIT) Atomics.add(this.#words, low + 1, 1);
  }

  #load(counter: number): number {
    const low = counter * 2;
    let high = 0;
    let value = 0;
    for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
      high = Atomics.load(this.#words, low + 1);
      value = Atomics.load(this.#words, low);
      if (Atomics.load(this.#words, low + 1) === high) break;
    }
    return high * LOW_WORD_LIMIT + value;
  }
}

/**
 * Request, error, rejection and timeout counters that worker threads add to directly: a tiny SharedArrayBuffer of BigInt64
 * words updated with Atomics, so `stats()` on the main thread needs no message round trip.
 */
const REQUESTS = 0;
const ERRORS = 1;
const HEADER_TIMEOUTS = 2;
const IDLE_TIMEOUTS = 3;
const REJECTED = 4;
const WORDS = 5;
/** The common increment, made once: `BigInt(1)` would allocate on every request. */
const ONE = 1n;

export class SharedCounters {
  /** Pass this to worker threads (workerData or a task) and wrap it there with `new SharedCounters(buffer)`. */
  readonly buffer: SharedArrayBuffer;
  readonly #words: BigInt64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 8)) {
    this.buffer = buffer;
    this.#words = new BigInt64Array(buffer, 0, WORDS);
  }

  /** One answered operation (a request that reached the application, whatever its outcome). */
  addRequests(n = 1): void {
    Atomics.add(this.#words, REQUESTS, n === 1 ? ONE : BigInt(n));
  }

  /** A socket error, a failed operation or a handler that crashed. */
  addErrors(n = 1): void {
    Atomics.add(this.#words, ERRORS, n === 1 ? ONE : BigInt(n));
  }

  /** A request head (framed: a frame) or body that did not arrive in time: 408/error reply and close. */
  addHeaderTimeouts(n = 1): void {
    Atomics.add(this.#words, HEADER_TIMEOUTS, n === 1 ? ONE : BigInt(n));
  }

  /** A keep-alive connection closed after its idle timeout. */
  addIdleTimeouts(n = 1): void {
    Atomics.add(this.#words, IDLE_TIMEOUTS, n === 1 ? ONE : BigInt(n));
  }

  /** Peer input a session refused (bad bytes, a limit exceeded): answered 4xx / error reply, closed. */
  addRejected(n = 1): void {
    Atomics.add(this.#words, REJECTED, n === 1 ? ONE : BigInt(n));
  }

  get rejected(): number {
    return Number(Atomics.load(this.#words, REJECTED));
  }

  get headerTimeouts(): number {
    return Number(Atomics.load(this.#words, HEADER_TIMEOUTS));
  }

  get idleTimeouts(): number {
    return Number(Atomics.load(this.#words, IDLE_TIMEOUTS));
  }

  get requests(): number {
    return Number(Atomics.load(this.#words, REQUESTS));
  }

  get errors(): number {
    return Number(Atomics.load(this.#words, ERRORS));
  }
}

/**
 * Request and error counters that worker threads add to directly: a tiny SharedArrayBuffer of BigInt64
 * words updated with Atomics, so `stats()` on the main thread needs no message round trip.
 */
const REQUESTS = 0;
const ERRORS = 1;
const WORDS = 2;

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
    Atomics.add(this.#words, REQUESTS, BigInt(n));
  }

  /** A socket error, a failed operation or a handler that crashed. */
  addErrors(n = 1): void {
    Atomics.add(this.#words, ERRORS, BigInt(n));
  }

  get requests(): number {
    return Number(Atomics.load(this.#words, REQUESTS));
  }

  get errors(): number {
    return Number(Atomics.load(this.#words, ERRORS));
  }
}

/**
 * Request, error, rejection and timeout counters that worker threads add to directly: a tiny SharedArrayBuffer of BigInt64
 * words updated with Atomics, so `stats()` on the main thread needs no message round trip.
 */
const REQUESTS = 0;
const ERRORS = 1;
const HEADER_TIMEOUTS = 2;
const IDLE_TIMEOUTS = 3;
const REJECTED = 4;
const PEER_RESETS = 5;
const WORDS = 6;

/**
 * Socket error codes that mean the peer went away (reset, or closed with our answer unread): the client's
 * doing — wrk closing its connections at the end of a run with requests in flight — not a server failure.
 */
const PEER_GONE_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
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

  /** A socket error: a peer that went away is a reset, anything else the server's own error. */
  addSocketError(error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && PEER_GONE_CODES.has(code)) Atomics.add(this.#words, PEER_RESETS, ONE);
    else Atomics.add(this.#words, ERRORS, ONE);
  }

  get peerResets(): number {
    return Number(Atomics.load(this.#words, PEER_RESETS));
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

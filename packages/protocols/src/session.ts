/**
 * The contract between a sans-I/O protocol session and the server model that drives it.
 *
 * A session is fed bytes and hands back work to run and bytes to send; it owns no socket, thread or
 * timer (h11's rule). That is what lets one handler run unchanged in a blocking BIO thread, a pool
 * thread and the event loop: the models differ only in *how* they run `work` and move `send`.
 *
 *   bytes from peer ──► receive() ──► { work[], send[], close }
 *                                        │
 *            server model runs each op ◄─┘   (inline, in a pool thread, or with a timer for sleep)
 *                                        │
 *   result ────────────► complete(id) ──► { work[], send[], close }   // send keeps request order
 */

/** An application operation; HTTP routes and framed requests both map onto these. */
export type Operation =
  | { readonly kind: 'plaintext' }
  | { readonly kind: 'json' }
  /** CPU-bound work of known cost: `rounds` iterations of SHA-256. */
  | { readonly kind: 'cpu'; readonly rounds: number }
  /** A wait like a call to a slow downstream: a blocking wait in thread models, a timer in the loop. */
  | { readonly kind: 'sleep'; readonly ms: number }
  | { readonly kind: 'echo'; readonly body: Uint8Array };

/** What running an operation produced; the session turns it into protocol bytes. */
export type OperationResult =
  | { readonly ok: true; readonly body: Uint8Array; readonly contentType: string }
  | { readonly ok: false; readonly status: number; readonly message: string };

/**
 * Runs an operation at once if it can (no wait: no timer, no other thread): its result, or `undefined`
 * when it must go out as `Work`. A throw is the handler's failure; see `ServerSession.runInline`.
 */
export type RunNow = (op: Operation) => OperationResult | undefined;

/** One operation the server model must run and report back with `complete(id, result)`. */
export interface Work {
  readonly id: number;
  readonly op: Operation;
}

/** What one session call asks of the model; each call returns its own. */
export interface SessionOutput {
  /** Operations to run now. Results may be completed in any order. Often the shared `NO_WORK`. */
  readonly work: readonly Work[];
  /** Bytes to write to the peer now, in order. Responses are released in request order (pipelining). */
  readonly send: readonly Uint8Array[];
  /** When true, close the connection once `send` has been written (Connection: close, protocol error). */
  readonly close: boolean;
}

/** The `work` of an output with nothing to run: shared, never written to. */
export const NO_WORK: readonly Work[] = Object.freeze([]);
/** The `send` of an output with nothing to write: shared, never written to. */
export const NO_SEND: readonly Uint8Array[] = Object.freeze([]);

/** What every session returns once it has closed (see the rules below). */
export const CLOSED_OUTPUT: SessionOutput = Object.freeze({ work: NO_WORK, send: NO_SEND, close: true });

export interface ServerSession {
  receive(chunk: Uint8Array): SessionOutput;
  complete(id: number, result: OperationResult): SessionOutput;
  /** The peer sent FIN: no more requests will come; answer what is in flight, then close. */
  peerEnded(): SessionOutput;
  /** Requests received and not yet answered; a draining server waits for this to reach 0. */
  readonly pending: number;
  /**
   * True while `pending` is at the session's `maxPipelineDepth`: parsing is paused and further input only
   * piles up (up to `maxPausedInputBytes`, then the session answers what it has and closes). A model
   * that can stop reading the socket should, until a `complete()` makes this false again.
   */
  readonly inputPaused: boolean;
  /** Input bytes the session holds unparsed (a partial request, or input waiting while paused). */
  readonly bufferedBytes: number;
  /**
   * What the unparsed input holds, for a model's read deadlines (the session keeps no clock itself):
   * - `none`: nothing half-received (between requests, or paused with whole requests waiting);
   * - `head`: part of a request head (framed protocols: part of a frame) — the header timeout runs;
   * - `body`: an HTTP request body still arriving — the idle timeout runs between reads.
   */
  readonly receiving: Receiving;
  /**
   * The model's deadline passed while `receiving` was not `none`: stop reading and return what to send
   * before closing — HTTP answers the requests in flight, then `408 Request Timeout`; framed protocols
   * answer what is in flight, then an error reply. The output always has `close: true`.
   */
  timedOut(): SessionOutput;
  /**
   * Optional (the HTTP session has it): from now on, each operation goes through `runNow` as soon as its
   * request is parsed, and what it answers is answered within the same call — no `Work`, no id, no queue
   * slot while nothing is waiting ahead of it, so a run of requests costs no allocation per request.
   * Only operations `runNow` returns `undefined` for come out as `work`. The model still decides where
   * handlers run (it writes `runNow`); a model that needs every request as `Work` never calls this.
   * The answers of one call are sent together after it, so `runNow` should answer only what is cheap
   * (fixed bodies, an echo) and decline slow work, which then runs between writes.
   * `runNow` must not throw: a model turns a handler's throw into its own answer (a 500) and counting.
   */
  runInline?(runNow: RunNow): void;
  /**
   * Why the session refused the peer's input, once it has: set once, at the call whose output starts the
   * refusal (the error response is queued behind the answers still owed), and never changed after.
   * `undefined` while all input has been acceptable, and after a close for any other reason.
   */
  readonly rejected: SessionRejection | undefined;
}

/**
 * A refusal of peer input: `code` is a stable code (`IOLAB_HTTP_*`, `IOLAB_PIPELINE_TOO_DEEP`, or a
 * `@iolab/framing` error code), `status` the HTTP status answered (absent for framed protocols, which send
 * an error reply), `message` what went wrong and where (the byte offset where the session knows it).
 */
export interface SessionRejection {
  readonly code: string;
  readonly status?: number;
  readonly message: string;
}

export type Receiving = 'none' | 'head' | 'body';

/*
 * Rules every session keeps, so models can rely on them:
 * - `receive(chunk)` never keeps a reference to `chunk`: a model may reuse its read buffer at once.
 * - Bytes in `Work` (an echo body) are lent, not given: they may be a shared constant (the one empty
 *   body) or a view of a buffer the session reuses. A model that moves them to another thread copies them
 *   and transfers only its copy; transferring them would detach a buffer the session still uses.
 * - Every routed request becomes `Work`, even `/plaintext`, so each model decides where handlers run —
 *   unless the model itself asked for them to run inline (`runInline`), which is that same decision.
 * - Once an output has `close: true`, later calls return `{ work: [], send: [], close: true }`.
 * - `complete()` with an id that is not pending throws `UnknownWorkError` (a model bug, not peer input).
 * - Peer input the session refuses (a grammar error, a limit exceeded, a frame the decoder rejects, input
 *   past `maxPausedInputBytes`) is answered (4xx/503 or an error reply) after what is owed, then closes,
 *   and sets `rejected` once, so a model can count and log it: the peer's fault, not the server's (never an
 *   `errors` count). A deadline (`timedOut()`) is not a refusal and leaves `rejected` unset; nor is a
 *   well-framed request answered with an error that keeps the connection (404, an `ERR` line).
 */

export type ProtocolName = 'http' | 'echo-lp' | 'echo-line';

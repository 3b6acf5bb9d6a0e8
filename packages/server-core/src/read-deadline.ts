/**
 * The two read deadlines every model keeps, computed from the session's state and a clock — one rule for
 * the event loop (a timer) and the blocking threads (a read with a deadline, like Java's `SO_TIMEOUT`):
 *
 *   receiving='head'  ── headStart + headerTimeout ──► session.timedOut(): 408 (framed: error), close
 *   receiving='body'  ── lastByte  + idleTimeout   ──► session.timedOut(): 408, close
 *   idle (nothing in flight, nothing half-read)
 *                     ── idleSince + idleTimeout   ──► close, nothing sent
 *   busy (a request in flight, nothing half-read) ──► no deadline: the handler's time is its own
 *
 * The header deadline covers the whole head, not each read: a client sending one byte a second never
 * resets it (a per-read `SO_TIMEOUT` alone would let it hold a thread for ever). A new connection's
 * first head is due `headerTimeout` after accept, as nginx's `client_header_timeout` and node:http's
 * `headersTimeout` count it. A new connection that sends nothing is closed without an answer at the
 * shorter of the two timeouts.
 */
import type { ServerSession, SessionOutput } from '@iolab/protocols';
import type { SharedCounters } from './shared-counters.js';

/**
 * Default `--header-timeout`: Tomcat's `connectionTimeout` (20 s), itself a thread-per-connection server
 * where a slow client holds a thread. nginx (`client_header_timeout`) and node:http (`headersTimeout`)
 * use 60 s; a model that loses a thread per slow client takes the shorter end.
 */
export const DEFAULT_HEADER_TIMEOUT_MS = 20_000;
/**
 * Default `--idle-timeout` for a keep-alive connection with nothing in flight: again Tomcat's (its
 * `keepAliveTimeout` defaults to `connectionTimeout`, 20 s). nginx keeps 75 s, node:http 5 s; long
 * enough for a benchmark's pauses, short enough that silent connections give their thread back.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 20_000;

export interface ReadTimeouts {
  /** The whole request head (framed: a frame) must arrive within this; 0 disables. */
  readonly headerTimeoutMs: number;
  /** A connection with nothing in flight, or a body with no byte for this long, is closed; 0 disables. */
  readonly idleTimeoutMs: number;
}

/** `header`: the head/frame (or a body read) was late → the session's `timedOut()`; `idle`: a quiet close. */
export type DeadlineKind = 'header' | 'idle';

/** A monotonic millisecond clock (`performance.now`); injectable so tests can drive it. */
export type Clock = () => number;

const monotonicNow: Clock = () => performance.now();

/**
 * Now, in milliseconds on a time line every thread shares: each worker's `performance.now()` starts at
 * its own `timeOrigin`, so a time handed to another thread travels as `timeOrigin + now()`.
 */
export function acceptedAtMs(): number {
  return performance.timeOrigin + performance.now();
}

const QUIET_CLOSE: SessionOutput = Object.freeze({ work: [], send: [], close: true });

type State = 'fresh' | 'head' | 'body' | 'idle' | 'busy';

export class ReadDeadline {
  readonly #header: number;
  readonly #idle: number;
  readonly #now: Clock;
  /** A new connection, nothing received yet: due at the shorter of the two timeouts after accept. */
  #state: State = 'fresh';
  /**
   * When the current state's clock started (head: its first byte; body: its last byte; idle: since). The
   * deadline itself is computed from it when asked, not stored: with an integer clock (`turnNow`) this
   * object then holds no number V8 must box, and an update per request touches this object alone.
   */
  #start: number;

  /**
   * `acceptedAt` (from `acceptedAtMs()` on the accepting thread) lets a thread that picks the connection
   * up later — a new bio thread, a queued pool task — count the first head from accept, not from its start.
   */
  constructor(timeouts: ReadTimeouts, acceptedAt?: number, now: Clock = monotonicNow) {
    this.#header = timeouts.headerTimeoutMs;
    this.#idle = timeouts.idleTimeoutMs;
    this.#now = now;
    // Whole milliseconds, as the clocks give: a deadline a fraction of a millisecond early is no change.
    this.#start = acceptedAt === undefined ? now() : Math.floor(acceptedAt - performance.timeOrigin);
  }

  /** What passing the current deadline means; `busy` when there is none. */
  get kind(): DeadlineKind | 'busy' {
    switch (this.#state) {
      case 'busy':
        return 'busy';
      case 'idle':
        return 'idle';
      case 'fresh':
        return this.#header > 0 && (this.#idle === 0 || this.#header <= this.#idle) ? 'header' : 'idle';
      default:
        return 'header';
    }
  }

  /** Absolute time (clock units) of the current deadline; +Infinity when none. */
  get at(): number {
    const timeout = this.#timeout();
    return timeout > 0 ? this.#start + timeout : Number.POSITIVE_INFINITY;
  }

  /** The current state's timeout (ms); 0 when it has none. */
  #timeout(): number {
    switch (this.#state) {
      case 'busy':
        return 0;
      case 'head':
        return this.#header;
      case 'fresh':
        // The shorter of the two, as `kind` picks it (0 when both are off).
        return this.kind === 'header' ? this.#header : this.#idle;
      default:
        return this.#idle;
    }
  }

  /**
   * Call after every `receive` (with `bytes: true`), `complete` and `peerEnded`: recomputes the deadline
   * from the session's state. O(1), no allocation, one clock read only when the state changes (or a
   * body byte arrives, or requests were answered). `answered`: the call answered requests within itself
   * (a session's `runInline`), so the state may look unchanged (idle → idle) while a request came and
   * went: the idle or header clock starts again, as it would after passing through `busy`.
   */
  update(session: ServerSession, bytes: boolean, answered = false): void {
    const receiving = session.receiving;
    const state: State = receiving !== 'none' ? receiving : session.pending > 0 ? 'busy' : 'idle';
    if (state === 'busy') {
      this.#state = state;
      return;
    }
    // The first head's clock started at accept (fresh → head keeps it), as nginx and node:http count it.
    const keep =
      !answered &&
      (state === this.#state ? state !== 'body' || !bytes : this.#state === 'fresh' && state === 'head');
    if (!keep) this.#start = this.#now();
    this.#state = state;
  }

  /** Milliseconds until the deadline (≤ 0: passed); +Infinity when there is none. */
  remaining(): number {
    const at = this.at;
    return at === Number.POSITIVE_INFINITY ? at : at - this.#now();
  }
}

/**
 * What a passed deadline does: `header` lets the session answer (408 / error reply) and close — unless
 * nothing at all arrived, which is closed without a word, as nginx does; `idle` closes quietly. Counted.
 */
export function expireDeadline(
  session: ServerSession,
  kind: DeadlineKind,
  counters: SharedCounters | undefined,
): SessionOutput {
  if (kind === 'idle') {
    counters?.addIdleTimeouts();
    return QUIET_CLOSE;
  }
  counters?.addHeaderTimeouts();
  return session.receiving === 'none' && session.pending === 0 ? QUIET_CLOSE : session.timedOut();
}

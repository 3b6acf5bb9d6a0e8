/**
 * The two ways the framed generator decides when to send. The run ({@link FramedLoadRun}) owns connections,
 * counting and verification; a driver only says when the next request goes out.
 *
 *   closed loop:  send depth ─► on each response: send one more (latency from the actual send)
 *   open loop:    1 ms ticker ─► every request due by now is sent, or queued behind the in-flight cap;
 *                 on response: send the oldest queued one (latency from the *scheduled* send, as wrk2 does)
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { Conn, FramedLoadRun } from './framed-load-run.js';

/** Open loop: requests waiting locally per connection; beyond this they are counted as `skipped`. */
export const MAX_LOCAL_BACKLOG_PER_CONNECTION = 4096;
/** The open loop's ticker period: the finest schedule a JS timer keeps on a loaded machine. */
const TICK_MS = 1;
/** Largest send lag the histogram tracks, in µs (one hour); longer ones are clamped. */
const MAX_TRACKED_LAG_US = 3_600_000_000;

export interface LoadDriver {
  readonly mode: 'closed' | 'open';
  /** Reported as the result's depth: pipeline depth (closed) or the in-flight cap (open). */
  readonly depth: number;
  /** Load starts now: fill every pipe (closed) or start the schedule (open). */
  start(run: FramedLoadRun, startMs: number): void;
  /** `conn` got an answer while the run is still sending. */
  answered(run: FramedLoadRun, conn: Conn, now: number): void;
  /** Sending ends (timer or abort). */
  stop(): void;
  /** Open loop: how late requests left relative to their schedule. */
  sendLagMs(): { readonly p99: number; readonly max: number } | undefined;
  destroy(): void;
}

/** Keeps `depth` requests in flight on every connection: a response is what sends the next request. */
export class ClosedLoopDriver implements LoadDriver {
  readonly mode = 'closed';
  readonly depth: number;
  constructor(depth: number) {
    this.depth = depth;
  }
  start(run: FramedLoadRun): void {
    for (const conn of run.connections) {
      for (let i = 0; i < this.depth; i++) run.enqueue(conn, performance.now(), run.measuring);
      run.flush(conn);
    }
  }
  answered(run: FramedLoadRun, conn: Conn, now: number): void {
    run.enqueue(conn, now, run.measuring);
  }
  stop(): void {}
  sendLagMs(): undefined {
    return undefined;
  }
  destroy(): void {}
}

/**
 * Sends at a fixed total rate whatever the server does, round-robin over open connections. Request k is due
 * at `start + k / rate`; a connection at its in-flight cap queues it locally (bounded), and a request with
 * nowhere to go is `skipped`, so a stalled server is charged for every request it kept waiting.
 */
export class OpenLoopDriver implements LoadDriver {
  readonly mode = 'open';
  readonly depth: number;
  readonly #intervalMs: number;
  readonly #lag: Histogram = build({ numberOfSignificantValueDigits: 3 });
  #ticker: NodeJS.Timeout | undefined;
  #scheduled = 0;
  #next = 0;

  constructor(rate: number, maxInFlightPerConnection: number) {
    this.#intervalMs = 1000 / rate;
    this.depth = maxInFlightPerConnection;
  }

  start(run: FramedLoadRun, startMs: number): void {
    const tick = (): void => this.#tick(run, startMs);
    this.#ticker = setInterval(tick, TICK_MS);
    tick();
  }

  #pick(run: FramedLoadRun): Conn | undefined {
    const conns = run.connections;
    for (let tries = 0; tries < conns.length; tries++) {
      const candidate = conns[this.#next++ % conns.length] as Conn;
      if (candidate.open) return candidate;
    }
    return undefined;
  }

  #tick(run: FramedLoadRun, startMs: number): void {
    const now = performance.now();
    const end = Math.min(now, run.measureUntil);
    const touched = new Set<Conn>();
    while (run.sending && startMs + this.#scheduled * this.#intervalMs <= end) {
      const at = startMs + this.#scheduled * this.#intervalMs;
      this.#scheduled++;
      const counted = run.counts(at);
      const conn = this.#pick(run);
      if (!conn) {
        if (counted) run.skip(1);
        continue;
      }
      if (conn.inflight.length < this.depth && conn.backlog.length === 0) {
        run.enqueue(conn, at, counted);
        if (counted)
          this.#lag.recordValue(Math.min(MAX_TRACKED_LAG_US, Math.max(1, Math.round((now - at) * 1000))));
        touched.add(conn);
      } else if (conn.backlog.length < MAX_LOCAL_BACKLOG_PER_CONNECTION) conn.backlog.push(at);
      else if (counted) run.skip(1);
    }
    for (const conn of touched) run.flush(conn);
  }

  answered(run: FramedLoadRun, conn: Conn): void {
    if (conn.backlog.length > 0 && conn.inflight.length < this.depth) {
      const scheduled = conn.backlog.shift() as number;
      run.enqueue(conn, scheduled, run.counts(scheduled));
    }
  }

  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  sendLagMs(): { p99: number; max: number } | undefined {
    if (this.#lag.totalCount === 0) return undefined;
    return { p99: this.#lag.getValueAtPercentile(99) / 1000, max: this.#lag.maxValue / 1000 };
  }

  destroy(): void {
    this.stop();
    this.#lag.destroy();
  }
}

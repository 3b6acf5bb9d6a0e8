/**
 * Framed TCP load generator for `echo-lp` and `echo-line`: closed loop (connections × pipeline depth) or
 * open loop (a fixed total rate, latency measured from each request's *scheduled* send time, as wrk2 does,
 * so a stalled server is charged for the requests it kept waiting). Every response is verified.
 *
 *   closed loop:  send depth ─► on each response: verify, record (now − sent), send one more
 *   open loop:    1 ms ticker ─► every request due by now is sent (or queued behind the in-flight cap);
 *                 on response: verify, record (now − scheduled)
 */
import { connect, type Socket } from 'node:net';
import { type LoadgenCpu, startSelfSampler } from '@iolab/harness';
import type { FramedResponseDecoder } from '@iolab/protocols';
import { build, type Histogram } from 'hdr-histogram-js';
import { AbortedError, BadOptionError } from './errors.js';
import {
  checkOp,
  encodeRequest,
  type FramedOp,
  type FramedProtocol,
  responseDecoder,
} from './framed-client-codec.js';
import type { LatencyMs } from './http-load.js';

/** Connects in flight at once: a burst of 10,000 SYNs overflows the server's accept backlog. */
export const MAX_CONCURRENT_CONNECTS = 256;
/** Open loop: requests in flight on one connection before new ones wait locally (bounds our memory). */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;
/** Open loop: requests waiting locally per connection; beyond this they are counted as `skipped`. */
export const MAX_LOCAL_BACKLOG_PER_CONNECTION = 4096;
/** Open loop: p99 lag of our own ticker above this means the generator could not keep the schedule. */
export const SEND_LAG_SATURATION_MS = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** After the run, time given to in-flight requests before they count as unanswered. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 2_000;
/** Largest latency the histogram tracks, in µs (one hour); longer ones are clamped. */
const MAX_TRACKED_US = 3_600_000_000;
const TICK_MS = 1;

export interface FramedLoadOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: FramedProtocol;
  /** Default: echo of 16 bytes. */
  readonly op?: FramedOp;
  readonly connections: number;
  /** Closed loop: requests kept in flight per connection (pipelining). Default 1. Ignored with `rate`. */
  readonly depth?: number;
  /** Open loop: total requests per second over all connections. Without it the run is closed loop. */
  readonly rate?: number;
  readonly durationSec: number;
  /** Load before the counted run (not recorded). */
  readonly warmupSec?: number;
  readonly connectTimeoutMs?: number;
  readonly drainTimeoutMs?: number;
  readonly maxInFlightPerConnection?: number;
  readonly signal?: AbortSignal;
}

export interface FramedLoadResult {
  readonly protocol: FramedProtocol;
  readonly op: FramedOp;
  readonly mode: 'closed' | 'open';
  readonly connections: number;
  readonly connectionsEstablished: number;
  readonly depth: number;
  /** Open loop: the offered rate. */
  readonly targetRate: number | undefined;
  readonly durationSec: number;
  /** Counted requests written (or, open loop, scheduled and written). */
  readonly sent: number;
  /** Counted responses that were `ok` and passed verification. */
  readonly completed: number;
  /** Error responses (status ≠ 0 / not `OK`) and requests lost with a closed connection. */
  readonly errors: number;
  /** Responses that were ok but wrong (echo mismatch), unexpected, or an unparsable stream. */
  readonly verifyFailures: number;
  /** Failed connects, by kind; `refused` is ECONNREFUSED. */
  readonly connectErrors: number;
  readonly refused: number;
  /** Connects that took longer than `connectTimeoutMs` (a server whose accept queue is full, e.g. bio). */
  readonly connectTimeouts: number;
  /** Time spent opening the connections, before the load (and the warm-up) started. */
  readonly connectPhaseMs: number;
  /** Connections the server closed during the run; `closedBeforeResponse` never answered anything. */
  readonly closedByPeer: number;
  readonly closedBeforeResponse: number;
  /** Counted requests still unanswered after the drain timeout. */
  readonly unanswered: number;
  /** Open loop: scheduled requests dropped because the local backlog was full or no connection was up. */
  readonly skipped: number;
  /** completed / durationSec */
  readonly requestsPerSec: number;
  readonly latencyMs: LatencyMs;
  /** Latency at 50, 75, 90, 95, 99, 99.9, 99.99 and 100 %, for HDR-style charts. */
  readonly percentiles: readonly { readonly percentile: number; readonly ms: number }[];
  /** Open loop: how late our ticker sent requests relative to their schedule. */
  readonly sendLagMs: { readonly p99: number; readonly max: number } | undefined;
  readonly loadgenCpu: LoadgenCpu;
  /** The generator, not the server, may have limited the result. */
  readonly saturated: boolean;
  readonly saturationReasons: readonly string[];
}

/** Array-backed FIFO with O(1) shift, compacted as it drains. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

interface InFlight {
  /** Closed loop: when written; open loop: when scheduled (ms, performance.now()). */
  readonly startMs: number;
  readonly expect: Buffer | undefined;
  readonly counted: boolean;
}

interface Conn {
  socket: Socket;
  decoder: FramedResponseDecoder;
  inflight: Fifo<InFlight>;
  /** Open loop: scheduled times waiting behind the in-flight cap. */
  backlog: Fifo<number>;
  answered: number;
  /** Connected at some point (a later error is not a connect error). */
  established: boolean;
  open: boolean;
  /** Requests built this turn, written in one go. */
  out: Uint8Array[];
}

function positiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new BadOptionError(name, `must be a positive integer, got ${value}`);
}

function latencyFrom(h: Histogram): LatencyMs {
  if (h.totalCount === 0)
    return {
      p50: Number.NaN,
      p90: Number.NaN,
      p99: Number.NaN,
      p999: Number.NaN,
      max: Number.NaN,
      mean: Number.NaN,
    };
  const at = (p: number): number => h.getValueAtPercentile(p) / 1000;
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: h.maxValue / 1000,
    mean: h.mean / 1000,
  };
}

function record(h: Histogram, ms: number): void {
  h.recordValue(Math.min(MAX_TRACKED_US, Math.max(1, Math.round(ms * 1000))));
}

/**
 * Runs framed load against `host:port` and resolves with counts, HDR latencies and the generator's own CPU.
 * Rejects only on bad options or abort; connect failures, error responses and wrong echoes are counted.
 */
export async function runFramedLoad(options: FramedLoadOptions): Promise<FramedLoadResult> {
  const op: FramedOp = options.op ?? { kind: 'echo', size: 16 };
  checkOp(op);
  positiveInt('connections', options.connections);
  const depth = options.depth ?? 1;
  positiveInt('depth', depth);
  if (!(options.durationSec > 0))
    throw new BadOptionError('durationSec', `must be > 0, got ${options.durationSec}`);
  const rate = options.rate;
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) {
    throw new BadOptionError('rate', `must be a positive number, got ${rate}`);
  }
  const maxInFlight = options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;
  positiveInt('maxInFlightPerConnection', maxInFlight);
  const signal = options.signal;
  if (signal?.aborted) throw new AbortedError('framed load');

  const latency = build({ numberOfSignificantValueDigits: 3 });
  const lag = build({ numberOfSignificantValueDigits: 3 });
  let seq = 0;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let verifyFailures = 0;
  let connectErrors = 0;
  let refused = 0;
  let connectTimeouts = 0;
  let closedByPeer = 0;
  let closedBeforeResponse = 0;
  let skipped = 0;
  /** Requests in flight over all connections, so the drain check is O(1) with 10,000 connections. */
  let totalInFlight = 0;
  let measuring = false;
  let sending = true;
  let measureFrom = Number.POSITIVE_INFINITY;
  let measureUntil = Number.POSITIVE_INFINITY;
  let aborted = false;
  const conns: Conn[] = [];
  let onSettled: (() => void) | undefined;
  /** Ends the send phase early (abort). */
  let endRun: (() => void) | undefined;

  const flush = (conn: Conn): void => {
    if (conn.out.length === 0 || !conn.open) return;
    conn.socket.write(conn.out.length === 1 ? (conn.out[0] as Uint8Array) : Buffer.concat(conn.out));
    conn.out = [];
  };

  const enqueue = (conn: Conn, startMs: number, counted: boolean): void => {
    const request = encodeRequest(options.protocol, op, seq++);
    conn.out.push(request.bytes);
    conn.inflight.push({ startMs, expect: request.expect, counted });
    totalInFlight++;
    if (counted) sent++;
  };

  const lose = (conn: Conn): void => {
    if (!conn.open) return;
    conn.open = false;
    for (let item = conn.inflight.shift(); item; item = conn.inflight.shift()) {
      totalInFlight--;
      if (item.counted) errors++;
    }
    skipped += conn.backlog.length;
    conn.backlog.clear();
    onSettled?.();
  };

  const onData = (conn: Conn, chunk: Buffer): void => {
    let responses: ReturnType<FramedResponseDecoder['push']>;
    try {
      responses = conn.decoder.push(chunk);
    } catch {
      verifyFailures++;
      conn.socket.destroy();
      lose(conn);
      return;
    }
    const now = performance.now();
    for (const response of responses) {
      const item = conn.inflight.shift();
      conn.answered++;
      if (!item) {
        verifyFailures++;
        continue;
      }
      totalInFlight--;
      if (!response.ok) {
        if (item.counted) errors++;
      } else if (item.expect && !item.expect.equals(response.body)) {
        if (item.counted) verifyFailures++;
      } else if (item.counted) {
        completed++;
        record(latency, now - item.startMs);
      }
      if (!sending) continue;
      if (rate === undefined) enqueue(conn, now, measuring);
      else if (conn.backlog.length > 0 && conn.inflight.length < maxInFlight) {
        const scheduled = conn.backlog.shift() as number;
        enqueue(conn, scheduled, scheduled >= measureFrom && scheduled < measureUntil);
      }
    }
    flush(conn);
    if (!sending && totalInFlight === 0) onSettled?.();
  };

  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({ host: options.host, port: options.port });
      const conn: Conn = {
        socket,
        decoder: responseDecoder(options.protocol, op),
        inflight: new Fifo(),
        backlog: new Fifo(),
        answered: 0,
        established: false,
        open: false,
        out: [],
      };
      const timer = setTimeout(
        () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
        options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      );
      socket.setNoDelay(true);
      socket.once('connect', () => {
        clearTimeout(timer);
        conn.open = true;
        conn.established = true;
        conns.push(conn);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => onData(conn, chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (!conn.established) {
          connectErrors++;
          if (error.code === 'ECONNREFUSED') refused++;
          else if (error.code === 'ETIMEDOUT') connectTimeouts++;
          resolve();
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (conn.open && !aborted && sending) {
          closedByPeer++;
          if (conn.answered === 0) closedBeforeResponse++;
        }
        lose(conn);
        resolve();
      });
    });

  const destroyAll = (): void => {
    for (const conn of conns) {
      conn.open = false;
      conn.socket.destroy();
    }
  };
  const onAbort = (): void => {
    aborted = true;
    sending = false;
    destroyAll();
    endRun?.();
    onSettled?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    // Connect, at most MAX_CONCURRENT_CONNECTS at a time.
    const connectStarted = performance.now();
    let next = 0;
    const workers = Array.from(
      { length: Math.min(MAX_CONCURRENT_CONNECTS, options.connections) },
      async () => {
        while (next < options.connections && !aborted) {
          next++;
          await open();
        }
      },
    );
    await Promise.all(workers);
    if (aborted) throw new AbortedError('framed load');

    const startMs = performance.now();
    const connectPhaseMs = startMs - connectStarted;
    const warmupMs = (options.warmupSec ?? 0) * 1000;
    measureFrom = startMs + warmupMs;
    measureUntil = measureFrom + options.durationSec * 1000;
    measuring = warmupMs === 0;
    let sampler = measuring ? startSelfSampler() : undefined;
    let cpu: LoadgenCpu | undefined;

    const phaseTimers: NodeJS.Timeout[] = [];
    if (!measuring) {
      phaseTimers.push(
        setTimeout(() => {
          measuring = true;
          sampler = startSelfSampler();
        }, warmupMs),
      );
    }
    let ticker: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve) => {
      endRun = (): void => {
        endRun = undefined;
        measuring = false;
        sending = false;
        cpu = sampler?.stop();
        if (ticker) clearInterval(ticker);
        resolve();
      };
      phaseTimers.push(setTimeout(() => endRun?.(), warmupMs + options.durationSec * 1000));
    });

    if (rate === undefined) {
      for (const conn of conns) {
        for (let i = 0; i < depth; i++) enqueue(conn, performance.now(), measuring);
        flush(conn);
      }
    } else {
      const intervalMs = 1000 / rate;
      let scheduled = 0;
      let rr = 0;
      const tick = (): void => {
        const now = performance.now();
        const end = Math.min(now, measureUntil);
        const touched = new Set<Conn>();
        while (sending && startMs + scheduled * intervalMs <= end) {
          const at = startMs + scheduled * intervalMs;
          scheduled++;
          const counted = at >= measureFrom && at < measureUntil;
          let conn: Conn | undefined;
          for (let tries = 0; tries < conns.length && !conn; tries++) {
            const candidate = conns[rr++ % conns.length] as Conn;
            if (candidate.open) conn = candidate;
          }
          if (!conn) {
            if (counted) skipped++;
            continue;
          }
          if (conn.inflight.length < maxInFlight && conn.backlog.length === 0) {
            enqueue(conn, at, counted);
            if (counted) record(lag, now - at);
            touched.add(conn);
          } else if (conn.backlog.length < MAX_LOCAL_BACKLOG_PER_CONNECTION) conn.backlog.push(at);
          else if (counted) skipped++;
        }
        for (const conn of touched) flush(conn);
      };
      ticker = setInterval(tick, TICK_MS);
      tick();
    }

    if (aborted) endRun?.();
    await finished;
    // Drain: give in-flight requests a bounded time to be answered.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (aborted || totalInFlight === 0) done();
      };
      const timer = setTimeout(() => done(), options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        onSettled = undefined;
        resolve();
      };
      onSettled = check;
      check();
    });
    for (const t of phaseTimers) clearTimeout(t);
    if (aborted) throw new AbortedError('framed load');

    let unanswered = 0;
    for (const conn of conns) {
      for (let item = conn.inflight.shift(); item; item = conn.inflight.shift())
        if (item.counted) unanswered++;
      if (conn.open) skipped += conn.backlog.length;
      conn.backlog.clear();
    }
    destroyAll();

    const loadgenCpu = cpu ?? startSelfSampler().stop();
    const reasons: string[] = [];
    if (loadgenCpu.saturated) reasons.push(`generator CPU ${loadgenCpu.cpuPercent.toFixed(0)} % of one core`);
    const sendLagMs =
      rate === undefined || lag.totalCount === 0
        ? undefined
        : { p99: lag.getValueAtPercentile(99) / 1000, max: lag.maxValue / 1000 };
    if (sendLagMs && sendLagMs.p99 > SEND_LAG_SATURATION_MS) {
      reasons.push(`open-loop send lag p99 ${sendLagMs.p99.toFixed(1)} ms > ${SEND_LAG_SATURATION_MS} ms`);
    }
    const percentiles = [50, 75, 90, 95, 99, 99.9, 99.99, 100].map((percentile) => ({
      percentile,
      ms: latency.totalCount === 0 ? Number.NaN : latency.getValueAtPercentile(percentile) / 1000,
    }));
    return {
      protocol: options.protocol,
      op,
      mode: rate === undefined ? 'closed' : 'open',
      connections: options.connections,
      connectionsEstablished: options.connections - connectErrors,
      depth: rate === undefined ? depth : maxInFlight,
      targetRate: rate,
      durationSec: options.durationSec,
      sent,
      completed,
      errors,
      verifyFailures,
      connectErrors,
      refused,
      connectTimeouts,
      connectPhaseMs,
      closedByPeer,
      closedBeforeResponse,
      unanswered,
      skipped,
      requestsPerSec: completed / options.durationSec,
      latencyMs: latencyFrom(latency),
      percentiles,
      sendLagMs,
      loadgenCpu,
      saturated: reasons.length > 0,
      saturationReasons: reasons,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    destroyAll();
    latency.destroy();
    lag.destroy();
  }
}

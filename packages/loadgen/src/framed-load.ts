/**
 * Framed TCP load generator for `echo-lp` and `echo-line`: closed loop (connections × pipeline depth) or
 * open loop (a fixed total rate, latency measured from each request's *scheduled* send time, as wrk2 does,
 * so a stalled server is charged for the requests it kept waiting). Every response is verified.
 *
 *   closed loop:  send depth ─► on each response: verify, record (now − sent), send one more
 *   open loop:    1 ms ticker ─► every request due by now is sent (or queued behind the in-flight cap);
 *                 on response: verify, record (now − scheduled)
 *
 * This file checks options and shapes the result; framed-load-run.ts owns the connections and the phases,
 * framed-load-drivers.ts the two sending disciplines.
 */
import type { LoadgenCpu } from '@iolab/harness';
import type { Histogram } from 'hdr-histogram-js';
import { AbortedError, BadOptionError } from './errors.js';
import { checkOp, type FramedOp, type FramedProtocol } from './framed-client-codec.js';
import { ClosedLoopDriver, type LoadDriver, OpenLoopDriver } from './framed-load-drivers.js';
import { FramedLoadRun } from './framed-load-run.js';
import type { LatencyMs } from './http-load.js';

/** Open loop: requests in flight on one connection before new ones wait locally (bounds our memory). */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;
/** Open loop: p99 lag of our own ticker above this means the generator could not keep the schedule. */
export const SEND_LAG_SATURATION_MS = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** After the run, time given to in-flight requests before they count as unanswered. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 2_000;

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

/** Checks the options and picks the driver: open loop with `rate`, closed loop without. */
function driverFor(options: FramedLoadOptions): LoadDriver {
  const depth = options.depth ?? 1;
  positiveInt('depth', depth);
  const rate = options.rate;
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) {
    throw new BadOptionError('rate', `must be a positive number, got ${rate}`);
  }
  const maxInFlight = options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;
  positiveInt('maxInFlightPerConnection', maxInFlight);
  return rate === undefined ? new ClosedLoopDriver(depth) : new OpenLoopDriver(rate, maxInFlight);
}

/**
 * Runs framed load against `host:port` and resolves with counts, HDR latencies and the generator's own CPU.
 * Rejects only on bad options or abort; connect failures, error responses and wrong echoes are counted.
 */
export async function runFramedLoad(options: FramedLoadOptions): Promise<FramedLoadResult> {
  const op: FramedOp = options.op ?? { kind: 'echo', size: 16 };
  checkOp(op);
  positiveInt('connections', options.connections);
  if (!(options.durationSec > 0))
    throw new BadOptionError('durationSec', `must be > 0, got ${options.durationSec}`);
  const driver = driverFor(options);
  const signal = options.signal;
  if (signal?.aborted) throw new AbortedError('framed load');

  const run = new FramedLoadRun(
    {
      host: options.host,
      port: options.port,
      protocol: options.protocol,
      op,
      connections: options.connections,
      warmupMs: (options.warmupSec ?? 0) * 1000,
      durationMs: options.durationSec * 1000,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    },
    driver,
  );
  const onAbort = (): void => run.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const connectStarted = performance.now();
    await run.connectAll();
    if (run.aborted) throw new AbortedError('framed load');
    const connectPhaseMs = performance.now() - connectStarted;
    await run.load();
    if (run.aborted) throw new AbortedError('framed load');
    const { counts, latency, loadgenCpu } = run.finish(connectPhaseMs);

    const reasons: string[] = [];
    if (loadgenCpu.saturated) reasons.push(`generator CPU ${loadgenCpu.cpuPercent.toFixed(0)} % of one core`);
    const sendLagMs = driver.sendLagMs();
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
      mode: driver.mode,
      connections: options.connections,
      connectionsEstablished: options.connections - counts.connectErrors,
      depth: driver.depth,
      targetRate: options.rate,
      durationSec: options.durationSec,
      sent: counts.sent,
      completed: counts.completed,
      errors: counts.errors,
      verifyFailures: counts.verifyFailures,
      connectErrors: counts.connectErrors,
      refused: counts.refused,
      connectTimeouts: counts.connectTimeouts,
      connectPhaseMs,
      closedByPeer: counts.closedByPeer,
      closedBeforeResponse: counts.closedBeforeResponse,
      unanswered: counts.unanswered,
      skipped: counts.skipped,
      requestsPerSec: counts.completed / options.durationSec,
      latencyMs: latencyFrom(latency),
      percentiles,
      sendLagMs,
      loadgenCpu,
      saturated: reasons.length > 0,
      saturationReasons: reasons,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    run.release();
  }
}

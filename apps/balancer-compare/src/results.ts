/**
 * What one comparison produced (every run, one summary row per client × target, the ratios against the peers)
 * and the arithmetic from runs to summary and ratios. No I/O here, so it is unit-tested on fixed runs.
 */
import { median } from '@iolab/harness';
import type { ProfileSummary } from './cpu-profile.js';

/** Targets, as iolab promises them: throughput ≥ 0.9× HAProxy, p99 ≤ 1.25× HAProxy, throughput ≥ 1.3× naive. */
export const RATIO_TARGETS = {
  throughputVsHaproxy: 0.9,
  p99VsHaproxy: 1.25,
  throughputVsNaive: 1.3,
} as const;

/** Which proxy sits between client and backends. `direct` talks to backend A only (no proxy at all). */
export type TargetName = 'direct' | 'iolab' | 'haproxy' | 'nginx' | 'naive';
export type ClientName = 'autocannon' | 'wrk';

export interface BalancerExperimentResults {
  readonly settings: {
    readonly connections: number;
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly repetitions: number;
    readonly proxyCpu: number | null;
    readonly clientCpu: number | null;
    readonly backend: string;
  };
  readonly skipped: readonly { readonly target: string; readonly reason: string }[];
  readonly runs: readonly RunResult[];
  readonly summary: readonly SummaryRow[];
  readonly ratios: Ratios;
  readonly profile?: ProfileSummary;
}

export interface RunResult {
  readonly target: TargetName;
  readonly client: ClientName;
  readonly repetition: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU of the proxy's process tree during the run, 100 = one core busy. `null` for `direct`. */
  readonly proxyCpuPercent: number | null;
  readonly clientCpuPercent: number | null;
}

export interface SummaryRow {
  readonly target: TargetName;
  readonly client: ClientName;
  readonly rpsMedian: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p99Median: number;
  readonly p99Min: number;
  readonly p99Max: number;
  readonly proxyCpuMedian: number | null;
  /** Proxy CPU microseconds per request: the cost that does not depend on how fast the client is. */
  readonly proxyCpuUsPerRequest: number | null;
  readonly clientCpuMedian: number | null;
  readonly errors: number;
}

export interface Ratio {
  readonly client: ClientName;
  readonly value: number;
  readonly target: number;
  readonly met: boolean;
}

export interface Ratios {
  /** iolab req/s ÷ HAProxy req/s (target ≥ 0.9). */
  readonly throughputVsHaproxy: readonly Ratio[];
  /** iolab p99 ÷ HAProxy p99 (target ≤ 1.25). */
  readonly p99VsHaproxy: readonly Ratio[];
  /** iolab req/s ÷ naive proxy req/s (target ≥ 1.3). */
  readonly throughputVsNaive: readonly Ratio[];
  /**
   * iolab proxy CPU µs per request ÷ HAProxy's (no target; lower is better). On a shared machine where no
   * proxy saturates its core this is the comparison that still means something.
   */
  readonly cpuPerRequestVsHaproxy: readonly Ratio[];
  readonly cpuPerRequestVsNaive: readonly Ratio[];
}

/** One row per client × target: medians and ranges over the repetitions, and proxy CPU per request. */
export function summarise(runs: readonly RunResult[]): SummaryRow[] {
  const keys = [...new Set(runs.map((r) => `${r.client}\u0000${r.target}`))];
  return keys.map((key) => {
    const group = runs.filter((r) => `${r.client}\u0000${r.target}` === key);
    const first = group[0] as RunResult;
    const rps = group.map((r) => r.requestsPerSecond);
    const p99 = group.map((r) => r.p99Ms);
    const proxyCpu = group.map((r) => r.proxyCpuPercent).filter((v): v is number => v !== null);
    const clientCpu = group.map((r) => r.clientCpuPercent).filter((v): v is number => v !== null);
    const rpsMedian = median(rps) ?? Number.NaN;
    const proxyCpuMedian = median(proxyCpu);
    return {
      target: first.target,
      client: first.client,
      rpsMedian,
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p99Median: median(p99) ?? Number.NaN,
      p99Min: Math.min(...p99),
      p99Max: Math.max(...p99),
      proxyCpuMedian,
      // CPU% is per 100 ms of wall per second: (cpu% / 100) s of CPU per second / requests per second.
      proxyCpuUsPerRequest: proxyCpuMedian === null ? null : ((proxyCpuMedian / 100) * 1e6) / rpsMedian,
      clientCpuMedian: median(clientCpu),
      errors: group.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}

/** iolab against each peer, per client, with the targets the balancer promises. */
export function computeRatios(summary: readonly SummaryRow[]): Ratios {
  const clients = [...new Set(summary.map((s) => s.client))];
  const find = (client: ClientName, target: TargetName): SummaryRow | undefined =>
    summary.find((s) => s.client === client && s.target === target);
  const make = (
    pick: (iolab: SummaryRow, peer: SummaryRow) => number,
    peer: TargetName,
    goal: number,
    higherIsBetter: boolean,
  ): Ratio[] =>
    clients.flatMap((client) => {
      const iolab = find(client, 'iolab');
      const other = find(client, peer);
      if (!iolab || !other) return [];
      const value = pick(iolab, other);
      return [{ client, value, target: goal, met: higherIsBetter ? value >= goal : value <= goal }];
    });
  return {
    throughputVsHaproxy: make(
      (a, b) => a.rpsMedian / b.rpsMedian,
      'haproxy',
      RATIO_TARGETS.throughputVsHaproxy,
      true,
    ),
    p99VsHaproxy: make((a, b) => a.p99Median / b.p99Median, 'haproxy', RATIO_TARGETS.p99VsHaproxy, false),
    throughputVsNaive: make(
      (a, b) => a.rpsMedian / b.rpsMedian,
      'naive',
      RATIO_TARGETS.throughputVsNaive,
      true,
    ),
    cpuPerRequestVsHaproxy: make(
      (a, b) => (a.proxyCpuUsPerRequest ?? Number.NaN) / (b.proxyCpuUsPerRequest ?? Number.NaN),
      'haproxy',
      Number.NaN,
      false,
    ),
    cpuPerRequestVsNaive: make(
      (a, b) => (a.proxyCpuUsPerRequest ?? Number.NaN) / (b.proxyCpuUsPerRequest ?? Number.NaN),
      'naive',
      Number.NaN,
      false,
    ),
  };
}

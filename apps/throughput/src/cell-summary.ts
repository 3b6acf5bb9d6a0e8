/**
 * Repetitions → one cell: medians with their spread, resource use, and the verdict on whether the number is
 * the server's (valid) or the load generator's (invalid: it ran out of CPU first).
 */
import { median, SATURATION_CPU_PERCENT, type Spread, spreadOf } from '@iolab/harness';
import type { RepetitionResult } from './load-job.js';

/** The generator is saturated at this share of its core: the harness's one threshold. */
export const GENERATOR_SATURATED_PERCENT = SATURATION_CPU_PERCENT;
/** The server counts as saturated at this share of the cores it may use. */
export const SERVER_SATURATED_SHARE = 0.9;

export interface CellMetrics {
  readonly requestsPerSec: number | null;
  readonly p99Ms: number | null;
  readonly rssMiB: number | null;
}

export interface CellSummary {
  readonly requestsPerSec: Spread;
  readonly p50Ms: Spread;
  readonly p99Ms: Spread;
  readonly p999Ms: Spread;
  /** Totals over the counted repetitions. */
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly refusals: number;
  readonly serverCpuPercent: number | null;
  /** Largest RSS seen near the end of a repetition. */
  readonly serverRssMiB: number | null;
  readonly serverThreads: number | null;
  readonly ctxSwitchesPerSec: number | null;
  readonly ctxSwitchesPerRequest: number | null;
  readonly loadgenCpuPercent: number | null;
  readonly serverAliveAtEnd: boolean;
  /** False when the generator, not the server, was saturated. */
  readonly valid: boolean;
  readonly invalidReason?: string;
}

export function summarise(
  reps: readonly RepetitionResult[],
  durationSec: number,
  serverCores: number,
): CellSummary {
  const sum = (pick: (r: RepetitionResult) => number): number => reps.reduce((acc, r) => acc + pick(r), 0);
  const nums = (pick: (r: RepetitionResult) => number | null): number[] =>
    reps.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
  const serverCpu = median(nums((r) => r.server.cpuPercent));
  const loadgenCpu = median(nums((r) => r.loadgenCpuPercent));
  const rss = nums((r) => r.server.rssBytes);
  const threads = nums((r) => r.server.threads);
  const ctx = nums((r) =>
    r.server.voluntaryCtxSwitches === null || r.server.nonvoluntaryCtxSwitches === null
      ? null
      : r.server.voluntaryCtxSwitches + r.server.nonvoluntaryCtxSwitches,
  );
  const requests = sum((r) => r.requests);
  const ctxTotal = ctx.reduce((a, b) => a + b, 0);
  const generatorSaturated =
    reps.some((r) => r.loadgenSaturated) ||
    (loadgenCpu !== null && loadgenCpu >= GENERATOR_SATURATED_PERCENT);
  const serverSaturated = serverCpu !== null && serverCpu >= SERVER_SATURATED_SHARE * 100 * serverCores;
  const valid = !(generatorSaturated && !serverSaturated);
  return {
    requestsPerSec: spreadOf(reps.map((r) => r.requestsPerSec)),
    p50Ms: spreadOf(reps.map((r) => r.p50Ms)),
    p99Ms: spreadOf(reps.map((r) => r.p99Ms)),
    p999Ms: spreadOf(reps.map((r) => r.p999Ms)),
    requests,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    refusals: sum((r) => r.refusals),
    serverCpuPercent: serverCpu,
    serverRssMiB: rss.length > 0 ? Math.max(...rss) / 2 ** 20 : null,
    serverThreads: threads.length > 0 ? Math.max(...threads) : null,
    ctxSwitchesPerSec: ctx.length > 0 ? (median(ctx) as number) / durationSec : null,
    ctxSwitchesPerRequest: ctx.length > 0 && requests > 0 ? ctxTotal / requests : null,
    loadgenCpuPercent: loadgenCpu,
    serverAliveAtEnd: reps.every((r) => r.server.alive),
    valid,
    ...(valid
      ? {}
      : {
          invalidReason: `load generator at ${loadgenCpu?.toFixed(0) ?? '?'}% of its core while the server used ${serverCpu?.toFixed(0) ?? '?'}% of ${serverCores}: the generator set the pace`,
        }),
  };
}

export function metricsOf(summary: CellSummary): CellMetrics {
  return {
    requestsPerSec: summary.requestsPerSec.median,
    p99Ms: summary.p99Ms.median,
    rssMiB: summary.serverRssMiB,
  };
}

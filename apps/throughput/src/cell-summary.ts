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

/** Past this share of attempts failing (errors + timeouts), a cell's rate says nothing about the model. */
export const FAILED_ERROR_SHARE = 0.01;

export type CellVerdictStatus = 'ok' | 'invalid' | 'failed';

/** failed > invalid > ok, with the cause in words. */
function cellStatus(
  requests: number,
  errors: number,
  timeouts: number,
  refusals: number,
  invalidReason: string | undefined,
): { status: CellVerdictStatus; statusReason?: string } {
  // `errors` already counts timeouts (see RepetitionResult); refusals are answers, not failures.
  const failures = errors;
  const attempts = requests + failures;
  if (requests === 0) {
    return {
      status: 'failed',
      statusReason: `nothing answered (${errors} errors, ${timeouts} timeouts, ${refusals} refusals)`,
    };
  }
  if (failures > FAILED_ERROR_SHARE * attempts) {
    return {
      status: 'failed',
      statusReason: `${((failures / attempts) * 100).toFixed(1)} % of requests failed (${errors} errors, ${timeouts} timeouts, ${refusals} refusals)`,
    };
  }
  if (invalidReason !== undefined) return { status: 'invalid', statusReason: invalidReason };
  return { status: 'ok' };
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
  /**
   * What a verdict may use: `failed` (nothing answered, or errors (timeouts included) over
   * {@link FAILED_ERROR_SHARE} of the attempts), `invalid` (the generator was the ceiling), else `ok`.
   */
  readonly status: CellVerdictStatus;
  /** Why a cell is not `ok`, in words the conclusions repeat. */
  readonly statusReason?: string;
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
  const invalidReason = valid
    ? undefined
    : `load generator at ${loadgenCpu?.toFixed(0) ?? '?'}% of its core while the server used ${serverCpu?.toFixed(0) ?? '?'}% of ${serverCores}: the generator set the pace`;
  const errors = sum((r) => r.errors);
  const timeouts = sum((r) => r.timeouts);
  const refusals = sum((r) => r.refusals);
  return {
    requestsPerSec: spreadOf(reps.map((r) => r.requestsPerSec)),
    p50Ms: spreadOf(reps.map((r) => r.p50Ms)),
    p99Ms: spreadOf(reps.map((r) => r.p99Ms)),
    p999Ms: spreadOf(reps.map((r) => r.p999Ms)),
    requests,
    errors,
    timeouts,
    refusals,
    serverCpuPercent: serverCpu,
    serverRssMiB: rss.length > 0 ? Math.max(...rss) / 2 ** 20 : null,
    serverThreads: threads.length > 0 ? Math.max(...threads) : null,
    ctxSwitchesPerSec: ctx.length > 0 ? (median(ctx) as number) / durationSec : null,
    ctxSwitchesPerRequest: ctx.length > 0 && requests > 0 ? ctxTotal / requests : null,
    loadgenCpuPercent: loadgenCpu,
    serverAliveAtEnd: reps.every((r) => r.server.alive),
    valid,
    ...(invalidReason === undefined ? {} : { invalidReason }),
    ...cellStatus(requests, errors, timeouts, refusals, invalidReason),
  };
}

export function metricsOf(summary: CellSummary): CellMetrics {
  return {
    requestsPerSec: summary.requestsPerSec.median,
    p99Ms: summary.p99Ms.median,
    rssMiB: summary.serverRssMiB,
  };
}

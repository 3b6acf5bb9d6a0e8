/**
 * Which cells run, for how long, and what each is expected to cost, so the full matrix fits its share of the
 * 30-minute budget (about 18 minutes on 2 cores) and the quick one about 2 minutes.
 */
import { type ModelId, type ModelSpec, modelSpecs } from './models.js';
import type { ServeProtocol } from './server-process.js';

export type WorkloadId = 'plaintext' | 'cpu' | 'sleep' | 'echo';

/** `/cpu?n=` rounds of SHA-256 (~1 µs each): about a millisecond of one core per request. */
export const CPU_ROUNDS = 1_000;
/** `/sleep?ms=`: a slow downstream call. */
export const SLEEP_MS = 10;
/** Echo payload bytes for the framed workload. */
export const ECHO_PAYLOAD_BYTES = 64;

export interface WorkloadSpec {
  readonly id: WorkloadId;
  readonly label: string;
  readonly protocol: ServeProtocol;
  /** HTTP path (with query) for HTTP workloads. */
  readonly path?: string;
}

export const WORKLOADS: readonly WorkloadSpec[] = [
  { id: 'plaintext', label: '/plaintext', protocol: 'http', path: '/plaintext' },
  { id: 'cpu', label: `/cpu?n=${CPU_ROUNDS}`, protocol: 'http', path: `/cpu?n=${CPU_ROUNDS}` },
  { id: 'sleep', label: `/sleep?ms=${SLEEP_MS}`, protocol: 'http', path: `/sleep?ms=${SLEEP_MS}` },
  { id: 'echo', label: `echo-lp ${ECHO_PAYLOAD_BYTES} B`, protocol: 'echo-lp' },
];

export interface Timing {
  readonly warmupSec: number;
  /** The adaptive HTTP warm-up (until every connection was answered once) stops here at the latest. */
  readonly warmupCapSec: number;
  readonly durationSec: number;
  readonly repetitions: number;
}

export const FULL_TIMING: Timing = { warmupSec: 1, warmupCapSec: 15, durationSec: 2, repetitions: 3 };
/** Quick keeps two repetitions so there is still a median and a spread. */
export const QUICK_TIMING: Timing = { warmupSec: 0.5, warmupCapSec: 8, durationSec: 1, repetitions: 2 };

/** Connection counts per workload: CPU-bound work at 1,000+ connections only measures queueing. */
const FULL_CONNECTIONS: Record<WorkloadId, readonly number[]> = {
  plaintext: [1, 10, 100, 1_000, 10_000],
  echo: [1, 10, 100, 1_000, 10_000],
  cpu: [1, 10, 100],
  sleep: [1, 100, 1_000],
};
const QUICK_CONNECTIONS: Record<WorkloadId, readonly number[]> = {
  plaintext: [1, 100],
  echo: [100],
  cpu: [10],
  sleep: [],
};

/**
 * The framed generator reconnects for every repetition; 10,000 connects three times over take most of a minute
 * per cell, more than the budget allows for what /plaintext × 10,000 already shows.
 */
const FRAMED_BUDGET_CONNECTIONS = 10_000;
const FRAMED_BUDGET_REASON =
  'budget: the framed generator reconnects every repetition, so 10,000 connections cost most of a minute per cell; /plaintext covers 10,000';

export interface PlannedCell {
  readonly key: string;
  readonly model: ModelSpec;
  readonly workload: WorkloadSpec;
  readonly connections: number;
  /** Set when the cell is not run; the reason goes in the report. */
  readonly skipReason?: string;
  /** Expected wall seconds, for progress and ETA. */
  readonly estimateSec: number;
}

export function cellKey(model: ModelId, workload: WorkloadId, connections: number): string {
  return `${model} × ${workload} × ${connections}`;
}

/** Start/stop of server and worker (~1.5 s on a busy 2-core box) plus connection set-up at high counts. */
export function estimateCellSec(timing: Timing, connections: number): number {
  const setup = 1.5 + connections / 2_000;
  return setup + timing.warmupSec + timing.repetitions * (timing.durationSec + 0.3 + connections / 4_000);
}

export function planCells(quick: boolean): PlannedCell[] {
  const timing = quick ? QUICK_TIMING : FULL_TIMING;
  const table = quick ? QUICK_CONNECTIONS : FULL_CONNECTIONS;
  const cells: PlannedCell[] = [];
  for (const workload of WORKLOADS) {
    for (const connections of table[workload.id]) {
      for (const model of modelSpecs()) {
        const key = cellKey(model.id, workload.id, connections);
        let skipReason: string | undefined;
        if (workload.protocol !== 'http' && !model.servesFramed) skipReason = 'speaks HTTP only';
        else if (workload.protocol !== 'http' && connections >= FRAMED_BUDGET_CONNECTIONS)
          skipReason = FRAMED_BUDGET_REASON;
        else if (connections > model.maxUsefulConnections)
          skipReason = model.capReason ?? 'above the model cap';
        cells.push({
          key,
          model,
          workload,
          connections,
          ...(skipReason === undefined ? {} : { skipReason }),
          estimateSec: skipReason ? 0 : estimateCellSec(timing, connections),
        });
      }
    }
  }
  return cells;
}

export interface OpenLoopPlan {
  readonly models: readonly ModelId[];
  readonly connections: number;
  /** Offered rates as fractions of the model's best closed-loop echo rate in this run. */
  readonly fractions: readonly number[];
  readonly p99TargetMs: number;
  readonly stepSec: number;
  readonly warmupSec: number;
}

/** Open-loop echo: the p99 target marks the largest rate a model sustains. */
export const P99_TARGET_MS = 10;

export function planOpenLoop(quick: boolean): OpenLoopPlan {
  return quick
    ? {
        models: ['bio', 'loop'],
        connections: 10,
        fractions: [0.3, 0.6, 0.9],
        p99TargetMs: P99_TARGET_MS,
        stepSec: 1,
        warmupSec: 0.3,
      }
    : {
        models: ['bio', 'pool-connection', 'pool-request', 'loop', 'loop-workers'],
        connections: 10,
        fractions: [0.2, 0.4, 0.6, 0.75, 0.9, 1.05, 1.2],
        p99TargetMs: P99_TARGET_MS,
        stepSec: 1.5,
        warmupSec: 0.5,
      };
}

export function estimateOpenLoopSec(plan: OpenLoopPlan): number {
  return plan.models.length * (1.5 + plan.warmupSec + plan.fractions.length * (plan.stepSec + 0.3));
}

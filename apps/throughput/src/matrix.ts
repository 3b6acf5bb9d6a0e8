/**
 * Which groups and cells run, for how long, and what each is expected to cost, so the full matrix fits its
 * share of the 30-minute budget (about 16 minutes on 2 cores) and the quick one about 2½ minutes.
 */
import { type ModelId, type ModelSpec, modelSpecs, POOL_THREADS, socketModeSpecs } from './models.js';
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
  /** Per model and group, after start-up and before the first window: discarded (JIT, caches). */
  readonly warmupSec: number;
  /** autocannon only (no wrk): its adaptive per-window warm-up stops here at the latest. */
  readonly warmupCapSec: number;
  /** One measured window. */
  readonly durationSec: number;
  /** Windows per cell, one per interleaved round. */
  readonly repetitions: number;
  /** Start-up probe: a model whose N connections are not all answered by then "did not start N threads". */
  readonly startupCapSec: number;
}

/**
 * Five 2 s windows per cell (the floor for a full run): with Welch's t at 4 degrees of freedom a
 * 10 % difference is resolved when windows spread by about ±5 %, which pinned servers on a quiet machine do.
 */
export const FULL_TIMING: Timing = {
  warmupSec: 1,
  warmupCapSec: 15,
  durationSec: 2,
  repetitions: 5,
  startupCapSec: 30,
};
/** Quick: three 1 s windows, the fewest that still give an interval. */
export const QUICK_TIMING: Timing = {
  warmupSec: 0.5,
  warmupCapSec: 8,
  durationSec: 1,
  repetitions: 3,
  startupCapSec: 15,
};

/** Connection counts per workload: CPU-bound work at 1,000+ connections only measures queueing. */
const FULL_CONNECTIONS: Record<WorkloadId, readonly number[]> = {
  plaintext: [1, 100, 1_000, 10_000],
  echo: [1, 100, 1_000],
  cpu: [1, 100],
  sleep: [100, 1_000],
};
const QUICK_CONNECTIONS: Record<WorkloadId, readonly number[]> = {
  plaintext: [1, 100],
  echo: [100],
  cpu: [10],
  sleep: [],
};

/**
 * Groups the full run leaves out to keep five interleaved windows per cell inside the 30-minute budget, rather
 * than shortening windows until they are noise. The report lists them with these reasons.
 */
export const DROPPED_FOR_BUDGET: readonly { readonly what: string; readonly why: string }[] = [
  {
    what: '/plaintext, echo-lp and /cpu at 10 connections',
    why: 'between 1 connection (the cost of one request) and 100 (concurrency) on the same curve; no model changes rank there',
  },
  {
    what: '/sleep at 1 connection',
    why: 'one connection waiting 10 ms per request runs at ~100 req/s in every model: it measures the timer',
  },
  {
    what: 'echo-lp at 10,000 connections',
    why: 'the framed generator reconnects every window, so 10,000 connects five times over cost most of a minute per cell; /plaintext covers 10,000',
  },
];

export interface PlannedCell {
  readonly key: string;
  readonly model: ModelSpec;
  readonly workload: WorkloadSpec;
  readonly connections: number;
  /** Set when the cell is not run; the reason goes in the report. */
  readonly skipReason?: string;
}

/**
 * One workload at one connection count: its models are measured together, in rotating order, while all of
 * their servers stay up (each pinned to the server core; an idle server costs next to nothing).
 */
export interface PlannedGroup {
  readonly key: string;
  /** `matrix`: the model comparison; `socket`: the same models with relayed vs owned sockets. */
  readonly family: 'matrix' | 'socket';
  readonly workload: WorkloadSpec;
  readonly connections: number;
  readonly cells: readonly PlannedCell[];
  /** Expected wall seconds, for progress and ETA. */
  readonly estimateSec: number;
}

export function cellKey(model: ModelId, workload: WorkloadId, connections: number): string {
  return `${model} × ${workload} × ${connections}`;
}

/** Servers start together (~3 s on a busy 2-core box), then start-up, warm-up and the windows. */
export function estimateGroupSec(timing: Timing, models: number, connections: number): number {
  const perWindow = timing.durationSec + 0.3 + connections / 20_000;
  return 3 + connections / 500 + models * (timing.warmupSec + 0.5 + timing.repetitions * perWindow);
}

function skipReasonOf(model: ModelSpec, workload: WorkloadSpec, connections: number): string | undefined {
  if (workload.protocol !== 'http' && !model.servesFramed) return 'speaks HTTP only';
  if (connections > model.maxUsefulConnections) return model.capReason ?? 'above the model cap';
  return undefined;
}

function groupOf(
  family: PlannedGroup['family'],
  workload: WorkloadSpec,
  connections: number,
  models: readonly ModelSpec[],
  timing: Timing,
): PlannedGroup {
  const cells = models.map((model): PlannedCell => {
    const skipReason = skipReasonOf(model, workload, connections);
    return {
      key: cellKey(model.id, workload.id, connections),
      model,
      workload,
      connections,
      ...(skipReason === undefined ? {} : { skipReason }),
    };
  });
  const runnable = cells.filter((c) => !c.skipReason).length;
  return {
    key: `${family}: ${workload.id} × ${connections}: ${models.map((m) => m.id).join(', ')}`,
    family,
    workload,
    connections,
    cells,
    estimateSec: runnable === 0 ? 0 : estimateGroupSec(timing, runnable, connections),
  };
}

export function planGroups(quick: boolean): PlannedGroup[] {
  const timing = quick ? QUICK_TIMING : FULL_TIMING;
  const table = quick ? QUICK_CONNECTIONS : FULL_CONNECTIONS;
  const groups: PlannedGroup[] = [];
  for (const workload of WORKLOADS) {
    for (const connections of table[workload.id]) {
      groups.push(groupOf('matrix', workload, connections, modelSpecs(), timing));
    }
  }
  return groups;
}

/**
 * Relay vs owned sockets: bio and the connection-mode pool twice each, on the same Node, so the only difference
 * is whether every byte crosses the main thread. Each pair is its own group: bio at 32 connections (the
 * issue's `wrk -c32`: 32 threads behind one main thread) and the pool at as many connections as it has
 * threads (more would only queue); full runs add 1 connection, the bare per-request cost.
 */
export function planSocketGroups(quick: boolean): PlannedGroup[] {
  const timing = quick ? QUICK_TIMING : FULL_TIMING;
  const plaintext = WORKLOADS[0] as WorkloadSpec;
  const [bioRelay, bioOwned, poolRelay, poolOwned] = socketModeSpecs() as [
    ModelSpec,
    ModelSpec,
    ModelSpec,
    ModelSpec,
  ];
  const bioCounts = quick ? [32] : [1, 32];
  const poolCounts = quick ? [POOL_THREADS] : [1, POOL_THREADS];
  return [
    ...bioCounts.map((n) => groupOf('socket', plaintext, n, [bioRelay, bioOwned], timing)),
    ...poolCounts.map((n) => groupOf('socket', plaintext, n, [poolRelay, poolOwned], timing)),
  ];
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

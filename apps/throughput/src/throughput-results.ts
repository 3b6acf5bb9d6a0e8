/** The raw results of the throughput experiment, as written into results.json under `throughput`. */
import type { CellMetrics, CellSummary } from './cell-summary.js';
import type { RepetitionResult } from './load-job.js';
import type { Timing, WorkloadId } from './matrix.js';
import type { ModelId } from './models.js';
import type { ServerStats } from './server-process.js';

export type CellStatus = 'ok' | 'skipped' | 'failed' | 'crashed';

export interface CellRecord {
  /** `model × workload × connections`: the comparison with the last run matches on it. */
  readonly key: string;
  readonly model: ModelId;
  readonly modelLabel: string;
  readonly workload: WorkloadId;
  readonly workloadLabel: string;
  readonly connections: number;
  readonly status: CellStatus;
  readonly reason?: string;
  /** Medians compared with the last run (the bench's `cells` convention). */
  readonly metrics: CellMetrics;
  readonly summary?: CellSummary;
  readonly repetitions?: readonly RepetitionResult[];
  readonly server?: {
    readonly commandLine: string;
    readonly cpu: number | null;
    readonly pinned: boolean;
    readonly noFileLimit: string | null;
  };
  /** The server's own counters over the whole cell (warm-up included), from its exit stats line. */
  readonly serverStats?: ServerStats;
  readonly loadgen?: {
    readonly commandLine: string;
    readonly workerCommandLine: string;
    readonly cpu: number | null;
    readonly pinned: boolean;
    readonly noFileLimit: string | null;
    /** HTTP: the adaptive warm-up's length and how many connections it saw answered. */
    readonly warmupSec?: number;
    readonly servedAfterWarmup?: number;
  };
}

export interface OpenLoopStep {
  readonly offeredRate: number;
  readonly achievedRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly errors: number;
  readonly refusals: number;
  readonly loadgenSaturated: boolean;
}

export interface OpenLoopRecord {
  readonly model: ModelId;
  readonly modelLabel: string;
  /** The closed-loop echo rate the offered rates were scaled from. */
  readonly basisRps: number | null;
  readonly steps: readonly OpenLoopStep[];
  /** Highest offered rate served at ≥ 95 % with p99 within the target; null when even the first step failed. */
  readonly sustainableRps: number | null;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason?: string;
  readonly serverCommandLine?: string;
}

export interface WrkCheck {
  readonly model: ModelId;
  readonly modelLabel: string;
  readonly connections: number;
  readonly autocannonRps: number | null;
  readonly autocannonValid: boolean | null;
  readonly wrkRps: number | null;
  readonly wrkP99Ms: number | null;
  readonly commandLine: string | null;
  readonly error?: string;
}

export interface ThroughputResults {
  readonly quick: boolean;
  readonly interrupted: boolean;
  readonly timing: Timing;
  readonly cores: number;
  readonly pinning: {
    readonly serverCpu: number | null;
    readonly loadgenCpu: number | null;
    readonly note: string;
  };
  readonly workloads: Readonly<Record<string, string>>;
  readonly models: readonly {
    readonly id: ModelId;
    readonly label: string;
    readonly serveArgs: readonly string[];
  }[];
  readonly p99TargetMs: number;
  readonly cells: readonly CellRecord[];
  readonly openLoop: readonly OpenLoopRecord[];
  readonly wrkCrossCheck: readonly WrkCheck[];
  readonly warnings: readonly string[];
}

/** The raw results of the throughput experiment, as written into results.json under `throughput`. */
import type { CellMetrics, CellSummary } from './cell-summary.js';
import type { HttpGenerator, RepetitionResult, StartupResult } from './load-job.js';
import type { Timing, WorkloadId } from './matrix.js';
import type { ModelId } from './models.js';
import type { ServerStats } from './server-process.js';

export type CellStatus = 'ok' | 'skipped' | 'failed' | 'crashed';

/** Thread start-up of one cell: N new connections at once, until each has had one answer. */
export interface StartupRecord extends StartupResult {
  /** `refused`: every connection got an answer or a refusal (a thread cap); `did-not-start`: the cap ran out. */
  readonly outcome: 'started' | 'refused' | 'did-not-start';
  /** Connections beyond what the model serves at once by design (not probed: they queue). */
  readonly queuedByDesign?: number;
}

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
  /** Time until N new connections had all been answered once, measured before the windows. */
  readonly startup?: StartupRecord;
  /** The server ran unpinned (every core), so it shared the generator's core: marked, never in a verdict. */
  readonly sharedCoreWithGenerator?: boolean;
  readonly loadgen?: {
    readonly commandLine: string;
    readonly workerCommandLine: string;
    readonly cpu: number | null;
    readonly pinned: boolean;
    readonly noFileLimit: string | null;
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
  /** The HTTP generator of every window, and why. */
  readonly generator: { readonly http: HttpGenerator; readonly note: string };
  /** The Node every server process ran on. */
  readonly node: { readonly path: string; readonly version: string; readonly socketTransfer: boolean };
  readonly cells: readonly CellRecord[];
  /** Relay vs owned sockets: bio and the connection-mode pool in both modes on the same Node. */
  readonly socketCells: readonly CellRecord[];
  /** Why the relay-vs-owned comparison did not run (no Node that can transfer sockets). */
  readonly socketSkipped?: string;
  /** Groups left out of the full run to fit its budget, and why. */
  readonly droppedForBudget: readonly { readonly what: string; readonly why: string }[];
  readonly openLoop: readonly OpenLoopRecord[];
  readonly warnings: readonly string[];
}

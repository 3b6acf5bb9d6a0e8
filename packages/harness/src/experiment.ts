/**
 * The contract between an experiment (the throughput, sticky-packets and balancer-compare apps) and the
 * bench orchestrator that runs it and renders the report. Experiments compute every number and every
 * conclusion from their own data; the orchestrator only stitches sections together and renders charts.
 */

import type { Verdict } from './ratio-ci.js';

export interface ProgressEvent {
  /** Which scenario is running, e.g. "throughput: loop × /plaintext × 100 conns". */
  readonly scenario: string;
  readonly done: number;
  readonly total: number;
  /** Estimated seconds left in this experiment, when the experiment can tell. */
  readonly etaSeconds?: number;
  readonly message?: string;
}

export interface ExperimentOptions {
  /** The reduced matrix of `npm run bench:quick` (must fit, with every other experiment, in 5 minutes). */
  readonly quick: boolean;
  readonly progress: (event: ProgressEvent) => void;
  /** Aborted on Ctrl-C / SIGTERM: stop starting scenarios, stop every process, reject or return early. */
  readonly signal: AbortSignal;
  /** Absolute path of the `iolab` executable script (the CLI app's bin/iolab.js), run with `process.execPath`. */
  readonly cliPath: string;
}

/** A chart: a Vega-Lite spec with its data inline (`data: { values: [...] }`), rendered to SVG by the orchestrator. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** A Vega-Lite top-level spec (kept as a plain object so experiments need not depend on vega-lite). */
  readonly spec: Record<string, unknown>;
  /**
   * `headline`: the report places the chart right after the verdict matrix (the ranked answer at a glance)
   * instead of in the section's own body.
   */
  readonly placement?: 'headline';
}

export interface ReportSection {
  readonly id: string;
  readonly title: string;
  /** Markdown body: method, tables, caveats. Every number in it is computed from `results`. */
  readonly markdown: string;
  /** One-line findings computed from the data ("loop serves /plaintext at 100 conns 3.1× bio"). */
  readonly conclusions: readonly string[];
  readonly charts: readonly ChartSpec[];
  /** Every command line the experiment ran (servers, load generators, peers). */
  readonly commands: readonly string[];
  /** Raw results, written into results.json under this section's id. */
  readonly results: unknown;
  /** Every comparison the section states, with its 95 % CI; collected into results.json's `verdicts`. */
  readonly verdicts?: readonly Verdict[];
}

export type Experiment = (options: ExperimentOptions) => Promise<ReportSection>;

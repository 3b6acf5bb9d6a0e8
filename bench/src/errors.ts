/**
 * Errors the bench orchestrator raises. Each has a stable `code`, so the CLI and tests can tell an invalid
 * results file from a failed experiment without parsing messages.
 */

export type BenchErrorCode =
  | 'IOLAB_BENCH_INVALID_RESULTS'
  | 'IOLAB_BENCH_CHART_FAILED'
  | 'IOLAB_BENCH_EXPERIMENT_FAILED'
  | 'IOLAB_BENCH_ABORTED';

export class BenchError extends Error {
  readonly code: BenchErrorCode;
  constructor(code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchError';
    this.code = code;
  }
}

/** results.json did not match the schema; `problems` lists each failing path and why. */
export class InvalidResultsError extends BenchError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('IOLAB_BENCH_INVALID_RESULTS', `results do not match the schema: ${problems.join('; ')}`);
    this.name = 'InvalidResultsError';
    this.problems = problems;
  }
}

/** A chart spec could not be compiled or rendered; the id says which. */
export class ChartRenderError extends BenchError {
  readonly chartId: string;
  constructor(chartId: string, cause: unknown) {
    super(
      'IOLAB_BENCH_CHART_FAILED',
      `chart ${chartId}: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = 'ChartRenderError';
    this.chartId = chartId;
  }
}

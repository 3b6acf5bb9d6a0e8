export { renderChartSvg } from './chart-renderer.js';
export { BenchError, ChartRenderError, InvalidResultsError } from './errors.js';
export { compareRuns, rotateResults } from './results-history.js';
export {
  assertValidResults,
  type BenchResults,
  RESULTS_JSON_SCHEMA,
  resultsProblems,
} from './results-schema.js';
export { type ExperimentEntry, runBench } from './run-bench.js';

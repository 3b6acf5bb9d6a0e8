export { summarise } from './cell-summary.js';
export type { RepetitionResult } from './load-job.js';
export { headlineConnections, rankedBars, rankedCharts } from './ranked-chart.js';
export { runThroughput } from './run-throughput.js';
export type { CellRecord, OpenLoopRecord, StartupRecord, ThroughputResults } from './throughput-results.js';

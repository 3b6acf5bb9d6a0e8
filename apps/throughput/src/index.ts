export { runThroughput } from './run-throughput.js';
export type { CellRecord, OpenLoopRecord, ThroughputResults, WrkCheck } from './throughput-results.js';

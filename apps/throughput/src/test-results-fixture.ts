/**
 * Tests only: a whole `ThroughputResults` around the cells a test cares about, so each test states its cells
 * and nothing else, and a new field of the results shape is added here once.
 */
import { QUICK_TIMING } from './matrix.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';

export function throughputResultsOf(
  cells: readonly CellRecord[],
  overrides: Partial<ThroughputResults> = {},
): ThroughputResults {
  return {
    quick: true,
    interrupted: false,
    timing: QUICK_TIMING,
    cores: 2,
    pinning: { serverCpu: 1, loadgenCpu: 0, note: 'pinned' },
    workloads: { plaintext: '/plaintext' },
    models: [],
    p99TargetMs: 10,
    generator: { http: 'wrk', note: 'wrk' },
    node: { path: '/usr/bin/node', version: 'v26.12.1', socketTransfer: true },
    cells,
    socketCells: [],
    droppedForBudget: [],
    openLoop: [],
    warnings: [],
    ...overrides,
  };
}

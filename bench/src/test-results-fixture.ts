/** A small valid results file for tests (excluded from the build). */
import type { BenchResults } from './results-schema.js';

export function sampleResults(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    schemaVersion: 1,
    quick: true,
    aborted: false,
    startedAt: '2026-11-21T14:00:00.000Z',
    finishedAt: '2026-11-21T14:04:00.000Z',
    durationSeconds: 240,
    commandLine: 'tsx src/main.ts --quick',
    environment: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryBytes: 1024,
      kernel: '6.1.0',
      platform: 'linux-x64',
      node: 'v20.0.0',
      packages: { '@iolab/bench': '0.1.0' },
      tools: { wrk: null, haproxy: 'HAProxy version 2.6' },
      ulimitNoFile: { soft: '1024', hard: '20000' },
      pinning: 'taskset',
      gitCommit: null,
      gitDirty: null,
      hostname: 'box',
      timestamp: '2026-11-21T14:00:00.000Z',
    },
    verdicts: [],
    sections: [
      {
        id: 'throughput',
        title: 'Throughput',
        status: 'ok',
        durationSeconds: 100,
        conclusions: ['loop wins'],
        commands: ['iolab serve loop'],
        results: { cells: [{ key: 'loop × plaintext × 1', metrics: { requestsPerSec: 1000, p99Ms: 2 } }] },
      },
    ],
    ...overrides,
  };
}

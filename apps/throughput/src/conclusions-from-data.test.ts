import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import { throughputConclusions } from './conclusions.js';
import type { WorkloadId } from './matrix.js';
import type { ModelId } from './models.js';
import { throughputResultsOf } from './test-results-fixture.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';

function cell(
  model: ModelId,
  workload: WorkloadId,
  connections: number,
  rps: number,
  opts: { loadgenCpu?: number; refusals?: number; rssMiB?: number; threads?: number } = {},
): CellRecord {
  const summary = summarise(
    [1, 2].map(() => ({
      requests: rps * 2,
      requestsPerSec: rps,
      p50Ms: 1,
      p99Ms: 4,
      p999Ms: 8,
      errors: 0,
      timeouts: 0,
      refusals: opts.refusals ?? 0,
      loadgenCpuPercent: opts.loadgenCpu ?? 40,
      loadgenSaturated: (opts.loadgenCpu ?? 40) >= 90,
      server: {
        cpuPercent: 50,
        rssBytes: (opts.rssMiB ?? 60) * 2 ** 20,
        threads: opts.threads ?? 11,
        voluntaryCtxSwitches: 10,
        nonvoluntaryCtxSwitches: 1,
        alive: true,
      },
    })),
    2,
    1,
  );
  return {
    key: `${model} × ${workload} × ${connections}`,
    model,
    modelLabel: model,
    workload,
    workloadLabel: workload === 'plaintext' ? '/plaintext' : workload,
    connections,
    status: 'ok',
    metrics: { requestsPerSec: rps, p99Ms: 4, rssMiB: opts.rssMiB ?? 60 },
    summary,
  };
}

function results(cells: CellRecord[]): ThroughputResults {
  return throughputResultsOf(cells);
}

describe('throughput conclusions', () => {
  it('ranks a workload by its medians without naming a winner (only a verdict does), computed from the cells', () => {
    const lines = throughputConclusions(
      results([
        cell('loop', 'plaintext', 100, 9_000),
        cell('bio', 'plaintext', 100, 3_000),
        cell('node-http', 'plaintext', 100, 6_000),
      ]),
    );
    // A ranking of medians, never a winner: only a verdict with its interval names one.
    expect(lines[0]).toBe(
      '/plaintext at 100 connections, median req/s (ranking only; the verdicts above say what lies outside the noise): loop 9,000 (p99 4.00 ms), node-http 6,000 (p99 4.00 ms), bio 3,000 (p99 4.00 ms).',
    );
    expect(lines.some((l) => l.includes(' wins'))).toBe(false);
  });

  it('leaves generator-bound cells out of the ranking and says so', () => {
    const lines = throughputConclusions(
      results([
        cell('loop', 'plaintext', 100, 20_000, { loadgenCpu: 99 }),
        cell('bio', 'plaintext', 100, 3_000),
        cell('node-http', 'plaintext', 100, 6_000),
      ]),
    );
    expect(lines[0]).toContain('node-http 6,000 (p99 4.00 ms), bio 3,000 (p99 4.00 ms).');
    expect(lines[0]).not.toContain('loop');
    expect(
      lines.some(
        (l) =>
          l.startsWith('1 of 3 measured cells are marked invalid') && l.includes('loop × plaintext × 100'),
      ),
    ).toBe(true);
  });

  it('finds where bio ran out and compares its memory with loop where it still held', () => {
    const lines = throughputConclusions(
      results([
        cell('bio', 'plaintext', 1, 2_000, { rssMiB: 70, threads: 12 }),
        cell('bio', 'plaintext', 100, 2_500, { rssMiB: 700, threads: 110 }),
        cell('bio', 'plaintext', 1_000, 1_000, { refusals: 744, rssMiB: 1_600, threads: 267 }),
        cell('loop', 'plaintext', 100, 5_000, { rssMiB: 70, threads: 11 }),
        cell('loop', 'plaintext', 1, 4_000),
      ]),
    );
    expect(
      lines.some(
        (l) => l.startsWith('bio ran out at 1,000 connections on /plaintext') && l.includes('1,488 refusals'),
      ),
    ).toBe(true);
    expect(lines).toContain(
      'At 100 connections bio ran 110 threads in 700 MiB RSS — 10× the memory of loop (11 threads, 70.0 MiB).',
    );
    // These cells carry no per-window figures, so no interval: the relay cost is not stated at all.
    expect(lines.some((l) => l.startsWith('Relay cost'))).toBe(false);
  });
});

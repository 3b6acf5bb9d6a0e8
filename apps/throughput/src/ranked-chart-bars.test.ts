import { ratioWithCi } from '@iolab/harness';
import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import type { RepetitionResult } from './load-job.js';
import type { ModelId } from './models.js';
import { headlineConnections, meanWithCi, rankedBars, rankedCharts } from './ranked-chart.js';
import type { CellRecord } from './throughput-results.js';

function rep(requestsPerSec: number, extra: Partial<RepetitionResult> = {}): RepetitionResult {
  return {
    requests: requestsPerSec * 2,
    requestsPerSec,
    p50Ms: 1,
    p99Ms: 5,
    p999Ms: 9,
    errors: 0,
    timeouts: 0,
    refusals: 0,
    loadgenCpuPercent: 40,
    loadgenSaturated: false,
    server: {
      cpuPercent: 95,
      rssBytes: 2 ** 26,
      threads: 11,
      voluntaryCtxSwitches: 10,
      nonvoluntaryCtxSwitches: 1,
      alive: true,
    },
    ...extra,
  };
}

function cell(
  model: ModelId,
  windows: readonly number[],
  connections = 100,
  extra: Partial<RepetitionResult> = {},
): CellRecord {
  const repetitions = windows.map((w) => rep(w, extra));
  const summary = summarise(repetitions, 2, 1);
  return {
    key: `${model} × /plaintext × ${connections}`,
    model,
    modelLabel: model,
    workload: 'plaintext',
    workloadLabel: '/plaintext',
    connections,
    status: 'ok',
    metrics: { requestsPerSec: summary.requestsPerSec.median, p99Ms: 5, rssMiB: 64 },
    summary,
    repetitions,
  };
}

const cells: CellRecord[] = [
  cell('bio', [8000, 8600, 7900, 8300, 8100]),
  cell('loop', [10500, 9800, 10200, 11000, 9900]),
  cell('loop-workers', [19000, 20000, 21000, 19500, 20500]),
  // Nothing answered.
  cell('pool-request', [0, 0, 0, 0, 0], 100, { requests: 0, errors: 200 }),
  // The generator was the ceiling.
  cell('pool-connection', [5000, 5100, 4900, 5050, 4950], 100, {
    loadgenCpuPercent: 99,
    loadgenSaturated: true,
    server: {
      cpuPercent: 30,
      rssBytes: 2 ** 26,
      threads: 11,
      voluntaryCtxSwitches: 10,
      nonvoluntaryCtxSwitches: 1,
      alive: true,
    },
  }),
  cell('loop', [500, 510, 490], 1),
];

describe('ranked bar chart', () => {
  it('takes the highest connection count at which at least two models ran', () => {
    expect(headlineConnections(cells)).toBe(100);
    expect(headlineConnections([cell('loop', [1, 2], 1), cell('bio', [1, 2], 10)])).toBe(10);
    expect(headlineConnections([])).toBeUndefined();
  });

  it('ranks the comparable models first, fastest first, and names every other cell by a word', () => {
    const bars = rankedBars(cells.filter((c) => c.connections === 100));
    expect(bars.map((b) => [b.model, b.status])).toEqual([
      ['loop', 'ok'],
      ['bio', 'ok'],
      ['loop-workers', 'all cores'],
      ['pool-connection', 'invalid'],
      ['pool-request', 'failed'],
    ]);
    expect(bars[2]?.label).toContain('all cores, not ranked');
    expect(bars[3]?.label).toMatch(/^INVALID \(generator-bound\)/);
    expect(bars[4]?.label).toMatch(/^FAILED: nothing answered/);
    expect(bars[4]?.requestsPerSec).toBe(0);
  });

  it('draws error bars from the same log-scale statistics as the verdicts', () => {
    const [loop, bio] = rankedBars(cells.filter((c) => c.connections === 100));
    expect(loop?.ciLow).toBeLessThan(loop?.requestsPerSec ?? 0);
    expect(loop?.ciHigh).toBeGreaterThan(loop?.requestsPerSec ?? 0);
    const loopWindows = [10500, 9800, 10200, 11000, 9900];
    const bioWindows = [8000, 8600, 7900, 8300, 8100];
    // Bar heights are geometric means, so their quotient is exactly the verdict's ratio.
    expect((loop?.requestsPerSec ?? 0) / (bio?.requestsPerSec ?? 1)).toBeCloseTo(
      ratioWithCi(loopWindows, bioWindows)?.ratio ?? 0,
      10,
    );
    // t(0.975, 4) = 2.776: half-width of the log-mean interval.
    const logs = loopWindows.map(Math.log);
    const m = logs.reduce((a, b) => a + b) / 5;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / 4);
    expect(meanWithCi(loopWindows)?.hi).toBeCloseTo(Math.exp(m + (2.7764451 * sd) / Math.sqrt(5)), 3);
    expect(meanWithCi([5])).toBeNull();
  });

  it('gives one headline chart per workload with bars, error-bar rules and status labels', () => {
    const charts = rankedCharts({ workloads: { plaintext: '/plaintext', echo: 'echo-lp' }, cells });
    expect(charts).toHaveLength(1);
    const [chart] = charts;
    expect(chart?.placement).toBe('headline');
    expect(chart?.title).toBe('/plaintext at 100 connections: req/s, 95 % CI');
    const layers = (chart?.spec.layer ?? []) as { mark: { type: string } }[];
    expect(layers.map((l) => l.mark.type)).toEqual(['bar', 'rule', 'text']);
  });
});

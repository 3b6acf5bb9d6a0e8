import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import type { RepetitionResult } from './load-job.js';
import type { ModelId } from './models.js';
import type { CellRecord } from './throughput-results.js';
import { throughputVerdicts, verdictLines, withheldVerdicts } from './verdicts.js';

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

describe('throughput verdicts', () => {
  it('compares the two fastest single-core models and names a winner only outside the noise', () => {
    const verdicts = throughputVerdicts({
      cells: [
        cell('bio', [8000, 8600, 7900, 8300, 8100]),
        cell('loop', [10500, 9800, 10200, 11000, 9900]),
        cell('pool-request', [3000, 3100, 2900, 3050, 2950]),
      ],
    });
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({
      experiment: 'throughput',
      workload: '/plaintext',
      connections: 100,
      winner: 'loop',
      runnerUp: 'bio',
      significant: true,
    });
    expect(Object.keys(verdicts[0] ?? {}).sort()).toEqual(
      ['ci95', 'connections', 'experiment', 'ratio', 'runnerUp', 'significant', 'winner', 'workload'].sort(),
    );
    expect(verdictLines(verdicts)[0]).toBe(
      '/plaintext × 100 connections: loop 1.26× bio (95 % CI 1.18–1.33)',
    );
  });

  it('never ranks the all-cores model against single-core ones by raw req/s', () => {
    const verdicts = throughputVerdicts({
      cells: [
        cell('loop-workers', [50_000, 51_000, 49_000]),
        cell('loop', [10_000, 10_100, 9_900]),
        cell('bio', [9_000, 9_100, 8_900]),
      ],
    });
    expect(verdicts[0]?.winner).toBe('loop');
    expect(verdicts.some((v) => v.winner === 'loop-workers' || v.runnerUp === 'loop-workers')).toBe(false);
  });

  it('leaves failed cells out: a model that answered nothing is never a runner-up', () => {
    const verdicts = throughputVerdicts({
      cells: [
        cell('bio', [0, 0, 0], 100, { requests: 0, errors: 200 }),
        cell('loop', [10_000, 10_100, 9_900]),
      ],
    });
    expect(verdicts).toEqual([]);
  });

  it('calls overlapping samples a tie, with no winner', () => {
    const verdicts = throughputVerdicts({
      cells: [cell('bio', [1000, 1300, 900]), cell('loop', [1100, 950, 1050])],
    });
    expect(verdicts[0]?.winner).toBeNull();
    expect(verdicts[0]?.significant).toBe(false);
  });

  it('withholds the verdict when a generator-bound cell measured at least the runner-up: it may really be first', () => {
    const bound = {
      loadgenSaturated: true,
      loadgenCpuPercent: 97,
      server: { ...rep(1).server, cpuPercent: 60 },
    };
    const cells = [
      cell('loop', [60_000, 61_000, 59_000], 100, bound),
      cell('pool-request', [20_000, 20_500, 19_500]),
      cell('bio', [5_000, 5_100, 4_900]),
    ];
    expect(cells[0]?.summary?.status).toBe('invalid');
    expect(throughputVerdicts({ cells })).toEqual([]);
    expect(withheldVerdicts({ cells }).map((c) => c.model)).toEqual(['loop']);
    // A generator-bound cell far below the top two cannot change who wins: the verdict stands.
    const slow = [
      cell('pool-request', [20_000, 20_500, 19_500]),
      cell('bio', [5_000, 5_100, 4_900]),
      cell('node-http', [1_000, 1_010, 990], 100, bound),
    ];
    expect(throughputVerdicts({ cells: slow })[0]?.winner).toBe('pool-request');
  });
});

import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './report.js';
import {
  type BalancerExperimentResults,
  type ClientName,
  computeRatios,
  type RunResult,
  summarise,
  type TargetName,
} from './results.js';

function run(
  target: TargetName,
  repetition: number,
  requestsPerSecond: number,
  p99Ms: number,
  proxyCpuPercent: number | null,
  client: ClientName = 'wrk',
): RunResult {
  return {
    target,
    client,
    repetition,
    requestsPerSecond,
    p50Ms: p99Ms / 4,
    p99Ms,
    errors: repetition === 1 ? 1 : 0,
    proxyCpuPercent,
    clientCpuPercent: 50,
  };
}

const runs: RunResult[] = [
  // iolab: median 9,000 req/s, p99 median 2 ms, proxy 90 % CPU.
  run('iolab', 1, 8_000, 3, 90),
  run('iolab', 2, 9_000, 2, 90),
  run('iolab', 3, 10_000, 1, 90),
  // haproxy: median 10,000 req/s, p99 median 1 ms, proxy 50 % CPU.
  run('haproxy', 1, 10_000, 1, 50),
  run('haproxy', 2, 11_000, 1, 50),
  run('haproxy', 3, 9_000, 1, 50),
  // naive: median 6,000 req/s.
  run('naive', 1, 6_000, 5, 100),
  run('naive', 2, 6_000, 5, 100),
  run('naive', 3, 6_000, 5, 100),
  run('direct', 1, 20_000, 0.5, null),
];

describe('summarise', () => {
  it('takes medians and ranges per client × target and sums errors', () => {
    const iolab = summarise(runs).find((s) => s.target === 'iolab');
    expect(iolab).toMatchObject({
      client: 'wrk',
      rpsMedian: 9_000,
      rpsMin: 8_000,
      rpsMax: 10_000,
      p99Median: 2,
      p99Min: 1,
      p99Max: 3,
      proxyCpuMedian: 90,
      errors: 1,
    });
    // 0.9 s of CPU per second over 9,000 requests/s = 100 µs per request.
    expect(iolab?.proxyCpuUsPerRequest).toBeCloseTo(100, 9);
  });

  it('has no proxy CPU for the direct target (there is no proxy)', () => {
    const direct = summarise(runs).find((s) => s.target === 'direct');
    expect(direct?.proxyCpuMedian).toBeNull();
    expect(direct?.proxyCpuUsPerRequest).toBeNull();
  });

  it('keeps clients apart', () => {
    const mixed = [...runs, run('iolab', 1, 1_000, 9, 10, 'autocannon')];
    const rows = summarise(mixed).filter((s) => s.target === 'iolab');
    expect(rows.map((r) => [r.client, r.rpsMedian])).toEqual([
      ['wrk', 9_000],
      ['autocannon', 1_000],
    ]);
  });
});

describe('computeRatios', () => {
  const ratios = computeRatios(summarise(runs));

  it('divides iolab by each peer and judges each target', () => {
    expect(ratios.throughputVsHaproxy).toEqual([{ client: 'wrk', value: 0.9, target: 0.9, met: true }]);
    expect(ratios.p99VsHaproxy).toEqual([{ client: 'wrk', value: 2, target: 1.25, met: false }]);
    expect(ratios.throughputVsNaive).toEqual([{ client: 'wrk', value: 1.5, target: 1.3, met: true }]);
  });

  it('compares CPU per request (lower is better, no target)', () => {
    // iolab 100 µs/req; haproxy 0.5 s / 10,000 = 50 µs/req.
    expect(ratios.cpuPerRequestVsHaproxy[0]?.value).toBeCloseTo(2, 9);
  });

  it('states no ratio against a peer that did not run', () => {
    const noPeers = computeRatios(summarise(runs.filter((r) => r.target === 'iolab')));
    expect(noPeers.throughputVsHaproxy).toEqual([]);
    expect(noPeers.throughputVsNaive).toEqual([]);
  });
});

describe('renderMarkdown', () => {
  it('prints the summary table with right-aligned numbers and the ratio lines', () => {
    const summary = summarise(runs);
    const results: BalancerExperimentResults = {
      settings: {
        connections: 50,
        durationSeconds: 2,
        warmupSeconds: 1,
        repetitions: 3,
        proxyCpu: 1,
        clientCpu: 0,
        backend: 'test',
      },
      skipped: [{ target: 'nginx', reason: 'nginx is not installed' }],
      runs,
      summary,
      ratios: computeRatios(summary),
    };
    const md = renderMarkdown(results);
    // Split in two so each fits 1280 px: traffic, then CPU.
    expect(md).toContain('|---|---|---:|---:|---:|---:|---:|');
    expect(md).toContain('|---|---|---:|---:|---:|');
    expect(md).toContain('| wrk | iolab | 90 | 100.0 | 50 |');
    expect(md).toContain('| wrk | iolab | 9,000 | 8,000–10,000 |');
    // Targets are judged on the 95 % CI of the per-window ratio (three noisy windows: undecided).
    expect(md).toContain(
      '- iolab ÷ HAProxy throughput (wrk): 0.90× (95 % CI 0.71–1.15), target ≥ 0.9× — undecided within noise',
    );
    expect(md).toContain(
      '- iolab balance vs HAProxy (wrk, 50 connections): tie within noise (1.11×, 95 % CI 0.87–1.42)',
    );
    expect(md).toContain('- nginx: nginx is not installed');
  });
});

import { ratioWithCi } from '@iolab/harness';
import { describe, expect, it } from 'vitest';
import { conclusions, renderMarkdown } from './report.js';
import {
  type BalancerExperimentResults,
  type ClientName,
  computeRatios,
  type RunResult,
  summarise,
  type TargetName,
} from './results.js';
import { balancerVerdicts, targetChecks, targetLine } from './verdicts.js';

function series(
  target: TargetName,
  rps: readonly number[],
  p99: readonly number[],
  client: ClientName = 'wrk',
): RunResult[] {
  return rps.map((r, i) => ({
    target,
    client,
    repetition: i + 1,
    requestsPerSecond: r,
    p50Ms: (p99[i] ?? 1) / 4,
    p99Ms: p99[i] ?? 1,
    errors: 0,
    proxyCpuPercent: 90,
    clientCpuPercent: 50,
  }));
}

function results(runs: RunResult[]): BalancerExperimentResults {
  const summary = summarise(runs);
  return {
    settings: {
      connections: 64,
      durationSeconds: 5,
      warmupSeconds: 1,
      repetitions: 5,
      proxyCpu: 1,
      clientCpu: 0,
      backend: 'test',
    },
    skipped: [],
    runs,
    summary,
    ratios: computeRatios(summary),
  };
}

const iolab = [9800, 10100, 10000, 9900, 10200];
const haproxy = [9500, 10400, 9700, 10300, 9900];
const naive = [6000, 6100, 5900, 6050, 5950];
const fixture = results([
  ...series('iolab', iolab, [2, 2.1, 1.9, 2, 2.05]),
  ...series('haproxy', haproxy, [1.9, 2, 2.1, 1.95, 2]),
  ...series('naive', naive, [5, 5.2, 4.9, 5.1, 5]),
  ...series('direct', [20000, 20100, 19900, 20050, 19950], [0.5, 0.5, 0.5, 0.5, 0.5]),
]);

describe('balancer verdicts', () => {
  it('compares iolab balance with each peer that ran, in the exact verdicts shape, winner only outside the noise', () => {
    const verdicts = balancerVerdicts(fixture);
    expect(verdicts).toHaveLength(2);
    const [vsHaproxy, vsNaive] = verdicts;
    const est = ratioWithCi(iolab, haproxy);
    expect(vsHaproxy).toEqual({
      experiment: 'balancer',
      workload: 'HTTP keep-alive via proxy (wrk)',
      connections: 64,
      winner: null,
      runnerUp: expect.any(String),
      ratio: expect.any(Number),
      ci95: expect.any(Array),
      significant: false,
    });
    // A tie: the interval straddles 1, and it is the harness's Welch interval of the same windows.
    expect(est?.significant).toBe(false);
    expect(vsHaproxy?.ci95[0]).toBeLessThan(1);
    expect(vsHaproxy?.ci95[1]).toBeGreaterThan(1);
    expect(vsNaive).toMatchObject({
      winner: 'iolab balance',
      runnerUp: 'naive pipe proxy',
      significant: true,
    });
    expect(vsNaive?.ratio).toBeCloseTo(ratioWithCi(iolab, naive)?.ratio ?? 0, 10);
    expect(vsNaive?.ci95[0]).toBeGreaterThan(1);
  });

  it('judges each target on its interval: met, NOT met, or undecided within noise', () => {
    const checks = targetChecks(fixture.runs);
    const byLabel = new Map(checks.map((c) => [c.label, c]));
    // 1.00× HAProxy with CI well above 0.9: met.
    expect(byLabel.get('iolab ÷ HAProxy throughput')?.outcome).toBe('met');
    // 1.66× naive, CI entirely above 1.3: met.
    expect(byLabel.get('iolab ÷ naive throughput')?.outcome).toBe('met');
    expect(byLabel.get('iolab ÷ HAProxy p99')?.outcome).toBe('met');

    const slow = targetChecks(
      results([
        ...series('iolab', [5000, 5100, 4900], [9, 9, 9]),
        ...series('haproxy', haproxy.slice(0, 3), [1, 1, 1]),
      ]).runs,
    );
    expect(slow.find((c) => c.label === 'iolab ÷ HAProxy throughput')?.outcome).toBe('NOT met');
    const noisy = targetChecks(
      results([
        ...series('iolab', [6000, 12000, 9000], [1, 1, 1]),
        ...series('haproxy', [10000, 10000, 10100], [1, 1, 1]),
      ]).runs,
    );
    expect(noisy.find((c) => c.label === 'iolab ÷ HAProxy throughput')?.outcome).toBe(
      'undecided within noise',
    );
  });

  it('words every target and comparison identically in the section and the conclusions', () => {
    const md = renderMarkdown(fixture);
    const lines = conclusions(fixture);
    expect(lines.length).toBe(targetChecks(fixture.runs).length + 2);
    for (const line of lines) expect(md).toContain(`- ${line}`);
    expect(lines).toContain(targetLine(targetChecks(fixture.runs)[0] ?? (undefined as never)));
    const tie = lines.find((l) => l.startsWith('iolab balance vs HAProxy'));
    expect(tie).toMatch(
      /^iolab balance vs HAProxy \(wrk, 64 connections\): tie within noise \(1\.0\d×, 95 % CI 0\.\d\d–1\.\d\d\)$/,
    );
  });
});

describe('a starved client', () => {
  const starved = (runs: RunResult[], target: TargetName): RunResult[] =>
    runs.map((r) => (r.target === target ? { ...r, clientCpuPercent: 97 } : r));
  const runs = starved(
    [
      ...series('iolab', [5000, 5100, 4900, 5050, 4950], [2, 2, 2, 2, 2]),
      ...series('haproxy', [9500, 9600, 9400, 9550, 9450], [1, 1, 1, 1, 1]),
      ...series('naive', naive, [5, 5.2, 4.9, 5.1, 5]),
    ],
    'iolab',
  );

  it('makes every comparison it took part in inconclusive: no verdict, and the line says why', () => {
    const r = results(runs);
    expect(balancerVerdicts(r)).toEqual([]);
    const line = conclusions(r).find((l) => l.includes('vs HAProxy')) ?? '';
    expect(line).toContain('inconclusive — wrk used 97 % of its core against iolab balance');
  });

  it('leaves targets undecided as inconclusive instead of NOT met', () => {
    const outcomes = targetChecks(runs).map((t) => t.outcome);
    expect(outcomes).toContain('inconclusive: client starved');
    expect(outcomes).not.toContain('NOT met');
  });
});

import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import { throughputConclusions } from './conclusions.js';
import type { RepetitionResult } from './load-job.js';
import type { ModelId } from './models.js';
import { throughputResultsOf } from './test-results-fixture.js';
import { buildThroughputSection } from './throughput-report.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';
import { RELAY_EXPERIMENT, relayVerdicts } from './verdicts.js';

function cell(model: ModelId, windows: readonly number[], connections = 1): CellRecord {
  const repetitions: RepetitionResult[] = windows.map((requestsPerSec) => ({
    requests: requestsPerSec * 2,
    requestsPerSec,
    p50Ms: 1,
    p99Ms: 4,
    p999Ms: 8,
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
  }));
  const summary = summarise(repetitions, 2, 1);
  return {
    key: `${model} × plaintext × ${connections}`,
    model,
    modelLabel: model,
    workload: 'plaintext',
    workloadLabel: '/plaintext',
    connections,
    status: 'ok',
    metrics: { requestsPerSec: summary.requestsPerSec.median, p99Ms: 4, rssMiB: 64 },
    summary,
    repetitions,
  };
}

function results(cells: CellRecord[]): ThroughputResults {
  return throughputResultsOf(cells);
}

describe('relay cost verdicts', () => {
  it('without relay-vs-owned groups: bio (relayed) against loop at 1 connection; a tie says so with its interval and no µs', () => {
    const r = results([
      cell('bio', [4000, 5200, 3600, 4700, 4400]),
      cell('loop', [4300, 4900, 3900, 5000, 4100]),
    ]);
    const [v] = relayVerdicts(r);
    expect(v).toMatchObject({
      experiment: RELAY_EXPERIMENT,
      connections: 1,
      winner: null,
      significant: false,
    });
    const line = throughputConclusions(r).find((l) => l.startsWith('Relay cost'));
    expect(line).toMatch(
      /at 1 connection: tie within noise \(1\.0\d×, 95 % CI 0\.\d\d–1\.\d\d\) — no relay cost measurable in this run\.$/,
    );
    expect(line).not.toContain('µs');
  });

  it('names loop the winner outside the noise and gives bio’s extra µs per round trip', () => {
    const r = results([
      cell('bio', [2000, 2050, 1950, 2020, 1980]),
      cell('loop', [4000, 4100, 3900, 4050, 3950]),
    ]);
    expect(relayVerdicts(r)).toMatchObject([{ winner: 'loop', runnerUp: 'bio', significant: true }]);
    const line = throughputConclusions(r).find((l) => l.startsWith('Relay cost')) ?? '';
    expect(line).toContain('loop 2.00× bio (95 % CI');
    // 1e6/2000 − 1e6/4000 = 250 µs.
    expect(line).toMatch(/; \+250 µs per request round trip for bio\.$/);
  });

  it('with relay-vs-owned groups: owned against relayed per model and connection count, not bio against loop', () => {
    const r = throughputResultsOf([cell('bio', [2000, 2050, 1950]), cell('loop', [4000, 4100, 3900])], {
      socketCells: [
        cell('bio-relay', [3000, 3050, 2950], 32),
        cell('bio-owned', [4500, 4550, 4450], 32),
        cell('pool-connection-relay', [2500, 2600, 2400], 32),
        cell('pool-connection-owned', [2550, 2450, 2600], 32),
      ],
    });
    const verdicts = relayVerdicts(r);
    expect(verdicts.map((v) => [v.workload, v.connections, v.winner])).toEqual([
      ['bio, /plaintext', 32, 'bio-owned'],
      ['pool connection mode, /plaintext', 32, null],
    ]);
    const section = buildThroughputSection(r);
    expect((section.verdicts ?? []).filter((v) => v.experiment === RELAY_EXPERIMENT)).toHaveLength(2);
    expect(section.markdown).toContain('### Relay vs owned sockets');
  });

  it('adds the relay verdict to the section’s verdicts, beside the throughput ones', () => {
    const section = buildThroughputSection(
      results([cell('bio', [2000, 2050, 1950, 2020, 1980]), cell('loop', [4000, 4100, 3900, 4050, 3950])]),
    );
    const experiments = (section.verdicts ?? []).map((v) => v.experiment);
    expect(experiments).toEqual(['throughput', RELAY_EXPERIMENT]);
  });

  it('states nothing when a side failed', () => {
    const failed = { ...cell('bio', [2000, 2050]), status: 'crashed' as const };
    expect(relayVerdicts(results([failed, cell('loop', [4000, 4100])]))).toEqual([]);
  });
});

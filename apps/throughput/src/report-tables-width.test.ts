import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import type { RepetitionResult } from './load-job.js';
import type { ModelId } from './models.js';
import { throughputResultsOf } from './test-results-fixture.js';
import { buildThroughputSection } from './throughput-report.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';

/**
 * Width of a Markdown table as the HTML report draws it: 13 px system-ui is at most ~7.5 px a character for
 * the digits and lower-case text these tables hold, plus 17 px of padding and border per column. The report's
 * main column at a 1280 px window is 1280 − 250 (contents) − 80 (padding) = 950 px.
 */
function estimatedWidthPx(table: string[]): number {
  const rows = table.filter((l) => !/^\|[-:| ]+\|$/.test(l)).map((l) => l.slice(1, -1).split(' | '));
  const columns = Math.max(...rows.map((r) => r.length));
  let width = 0;
  for (let i = 0; i < columns; i++) {
    const chars = Math.max(...rows.map((r) => (r[i] ?? '').replaceAll('**', '').trim().length));
    width += chars * 7.5 + 17;
  }
  return width;
}

function tablesOf(markdown: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) current.push(line);
    else if (current.length > 0) {
      out.push(current);
      current = [];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function cell(model: ModelId, rps: number, connections: number): CellRecord {
  const repetitions: RepetitionResult[] = [rps, rps * 1.05, rps * 0.95].map((requestsPerSec) => ({
    requests: requestsPerSec * 2,
    requestsPerSec,
    p50Ms: 12.345,
    p99Ms: 123.456,
    p999Ms: 1234.567,
    errors: 12_345,
    timeouts: 0,
    refusals: 1_234,
    loadgenCpuPercent: 99,
    loadgenSaturated: false,
    server: {
      cpuPercent: 99,
      rssBytes: 2 ** 31,
      threads: 10_011,
      voluntaryCtxSwitches: 123_456,
      nonvoluntaryCtxSwitches: 12_345,
      alive: true,
    },
  }));
  const summary = summarise(repetitions, 2, 1);
  return {
    key: `${model} × plaintext × ${connections}`,
    model,
    modelLabel: model === 'loop-workers' ? 'loop × 2 workers' : model,
    workload: 'plaintext',
    workloadLabel: '/plaintext',
    connections,
    status: 'ok',
    metrics: { requestsPerSec: summary.requestsPerSec.median, p99Ms: 123, rssMiB: 2048 },
    summary,
    repetitions,
  };
}

describe('throughput section tables', () => {
  it('every table fits the 950 px main column of a 1280 px window, even with wide figures', () => {
    const results: ThroughputResults = throughputResultsOf(
      [cell('loop-workers', 123_456, 10_000), cell('pool-connection', 99_999, 10_000), cell('bio', 1, 1)],
      { quick: false },
    );
    const tables = tablesOf(buildThroughputSection(results).markdown);
    expect(tables.length).toBeGreaterThanOrEqual(2);
    for (const table of tables) {
      expect(estimatedWidthPx(table), table[0]).toBeLessThanOrEqual(950);
    }
  });
});

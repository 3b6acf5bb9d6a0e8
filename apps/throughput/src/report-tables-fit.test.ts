import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import type { RepetitionResult } from './load-job.js';
import type { ModelId } from './models.js';
import { workloadTables } from './throughput-report.js';
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

function cell(model: ModelId, windows: readonly number[], extra: Partial<RepetitionResult> = {}): CellRecord {
  const repetitions = windows.map((w) => rep(w, extra));
  const summary = summarise(repetitions, 2, 1);
  return {
    key: `${model} × /plaintext × 100`,
    model,
    modelLabel: model,
    workload: 'plaintext',
    workloadLabel: '/plaintext',
    connections: 100,
    status: 'ok',
    metrics: { requestsPerSec: summary.requestsPerSec.median, p99Ms: 5, rssMiB: 64 },
    summary,
    repetitions,
  };
}

/** The cells of a Markdown table row (between the outer pipes). */
function cellsOf(row: string): string[] {
  return row.slice(1, -1).split('|');
}

describe('throughput tables', () => {
  const tables = workloadTables({
    workloads: { plaintext: '/plaintext' },
    cells: [
      cell('loop', [10000, 10100, 9900]),
      // Nothing answered: summarise marks it failed.
      cell('bio', [0, 0, 0], { requests: 0, errors: 200 }),
      { ...cell('pool-request', [1, 1, 1]), status: 'crashed', reason: 'server exited with code 1' },
    ],
  });
  const rows = tables.split('\n').filter((l) => l.startsWith('|'));

  it('splits each workload into tables narrow enough for 1280 px, every row as wide as its header', () => {
    const headers = rows.filter((r) => r.startsWith('| model '));
    expect(headers).toHaveLength(2);
    let width = 0;
    for (const row of rows) {
      if (row.startsWith('| model ')) width = cellsOf(row).length;
      expect(width).toBeLessThanOrEqual(9);
      expect(cellsOf(row)).toHaveLength(width);
    }
  });

  it('puts the status word in the third column of every row, in both tables', () => {
    const body = rows.filter((r) => !r.startsWith('| model ') && !r.startsWith('|---'));
    expect(body).toHaveLength(6);
    const statuses = body.map((r) => cellsOf(r)[2]?.trim());
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(2);
    expect(statuses.filter((s) => s === '**failed**')).toHaveLength(2);
    expect(statuses.filter((s) => s === '**crashed**')).toHaveLength(2);
    expect(tables).toContain('server exited with code 1');
  });

  it('right-aligns every numeric column', () => {
    for (const rule of rows.filter((r) => r.startsWith('|---'))) {
      const aligns = cellsOf(rule);
      expect(aligns.slice(0, 3)).toEqual(['---', '---:', '---']);
      expect(aligns.slice(3).every((a) => a === '---:')).toBe(true);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { renderHtml } from './report-html.js';
import { type ReportModel, renderMarkdown, verdictMatrixBlock } from './report-markdown.js';
import { sampleResults } from './test-results-fixture.js';

const verdicts = [
  {
    experiment: 'throughput',
    workload: '/plaintext',
    connections: 100,
    winner: 'loop',
    runnerUp: 'bio',
    ratio: 1.26,
    ci95: [1.18, 1.33] as [number, number],
    significant: true,
  },
  {
    experiment: 'throughput',
    workload: '/plaintext',
    connections: 1,
    winner: null,
    runnerUp: 'bio',
    ratio: 1.05,
    ci95: [0.91, 1.21] as [number, number],
    significant: false,
  },
];

function model(): ReportModel {
  return {
    results: sampleResults({ verdicts }),
    bodies: new Map(),
    charts: [],
    comparison: undefined,
    comparisonNote: 'first run',
    warnings: [],
  };
}

describe('verdict matrix', () => {
  it('puts workload × connections in a table: winner with ratio and CI, or tie', () => {
    const md = verdictMatrixBlock(model().results);
    expect(md).toContain('| workload | 1 conns | 100 conns |');
    expect(md).toContain('|---|---:|---:|');
    expect(md).toContain('| /plaintext | tie (1.05×, CI 0.91–1.21) | **loop** 1.26× bio (CI 1.18–1.33) |');
  });

  it('says so when no verdict could be stated', () => {
    expect(verdictMatrixBlock(sampleResults({ verdicts: [] }))).toContain('no verdict is stated');
  });

  it('opens REPORT.md and index.html, before the contents', async () => {
    const md = renderMarkdown(model());
    const firstSection = md.indexOf('## ');
    expect(md.slice(firstSection)).toMatch(/^## Verdicts/);
    expect(md.indexOf('## Verdicts')).toBeLessThan(md.indexOf('## Contents'));
    const html = await renderHtml(model());
    expect(html.indexOf('Verdicts')).toBeGreaterThan(-1);
    expect(html.indexOf('Verdicts')).toBeLessThan(html.indexOf('Conclusions'));
  });
});

describe('verdict matrix with several comparisons in one cell', () => {
  it('shows every comparison of a workload × connections cell, one per line', () => {
    const ci = (lo: number, hi: number): [number, number] => [lo, hi];
    const md = verdictMatrixBlock(
      sampleResults({
        verdicts: [
          {
            experiment: 'balancer',
            workload: 'HTTP (wrk)',
            connections: 64,
            winner: null,
            runnerUp: 'HAProxy',
            ratio: 1.05,
            ci95: ci(0.91, 1.21),
            significant: false,
          },
          {
            experiment: 'balancer',
            workload: 'HTTP (wrk)',
            connections: 64,
            winner: 'iolab balance',
            runnerUp: 'naive pipe proxy',
            ratio: 1.6,
            ci95: ci(1.4, 1.8),
            significant: true,
          },
        ],
      }),
    );
    const row = md.split('\n').find((l) => l.startsWith('| HTTP (wrk)')) ?? '';
    expect(row).toContain(
      'tie with HAProxy (1.05×, CI 0.91–1.21)<br>**iolab balance** 1.60× naive pipe proxy (CI 1.40–1.80)',
    );
    const html = renderHtml({ ...model(), results: sampleResults({ verdicts: [] }) });
    expect(html).toContain('No comparison had two comparable cells');
  });
});

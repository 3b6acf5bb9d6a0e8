import type { CellRecord } from '@iolab/throughput';
import { type RepetitionResult, rankedCharts, summarise } from '@iolab/throughput';
import { describe, expect, it } from 'vitest';
import { renderChartSvg } from './chart-renderer.js';
import { renderHtml } from './report-html.js';
import { type ReportModel, renderMarkdown } from './report-markdown.js';
import { sampleResults } from './test-results-fixture.js';

function cell(
  model: CellRecord['model'],
  windows: readonly number[],
  extra: Partial<RepetitionResult> = {},
): CellRecord {
  const repetitions: RepetitionResult[] = windows.map((w) => ({
    requests: w * 2,
    requestsPerSec: w,
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
  }));
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

async function model(): Promise<ReportModel> {
  const [spec] = rankedCharts({
    workloads: { plaintext: '/plaintext' },
    cells: [
      cell('loop', [10500, 9800, 10200, 11000, 9900]),
      cell('bio', [8000, 8600, 7900, 8300, 8100]),
      cell('pool-request', [0, 0, 0, 0, 0], { requests: 0, errors: 200 }),
    ],
  });
  if (!spec) throw new Error('no ranked chart');
  const svg = await renderChartSvg(spec.id, spec.spec);
  return {
    results: sampleResults(),
    bodies: new Map([['throughput', '## Method\n\ntext']]),
    charts: [
      {
        sectionId: 'throughput',
        id: spec.id,
        title: spec.title,
        svg,
        file: 'charts/throughput-ranked-plaintext.svg',
        headline: true,
      },
      { sectionId: 'throughput', id: 'rps', title: 'Requests/s', svg, file: 'charts/throughput-rps.svg' },
    ],
    comparison: undefined,
    comparisonNote: 'first run',
    warnings: [],
  };
}

describe('ranked bar chart in the report', () => {
  it('renders to SVG with one bar and one error bar per model and the failed cell named in words', async () => {
    const m = await model();
    const svg = m.charts[0]?.svg ?? '';
    expect(svg.startsWith('<svg')).toBe(true);
    // Bars: vega draws a rect mark group with one path per datum.
    expect(svg).toMatch(/class="mark-rect role-mark layer_0_marks"/);
    expect(svg).toMatch(/class="mark-rule role-mark layer_1_marks"/);
    const rules = /class="mark-rule role-mark layer_1_marks"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    expect((rules.match(/<line/g) ?? []).length).toBe(3);
    expect(svg).toContain('FAILED: nothing answered');
    expect(svg).toContain('/plaintext at 100 connections');
    // Fits the report's main column at a 1280 px window (1280 − 250 px contents − 80 px padding).
    const width = Number(/^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThan(0);
    expect(width).toBeLessThanOrEqual(950);
  });

  it('sits right after the verdict matrix in both REPORT.md and index.html, not in the section', async () => {
    const m = await model();
    const md = renderMarkdown(m);
    const ranked = md.indexOf(
      '![/plaintext at 100 connections: req/s, 95 % CI](charts/throughput-ranked-plaintext.svg)',
    );
    expect(ranked).toBeGreaterThan(md.indexOf('## Verdicts'));
    expect(ranked).toBeLessThan(md.indexOf('## Contents'));
    expect(md.match(/throughput-ranked-plaintext\.svg/g)).toHaveLength(1);
    expect(md.indexOf('charts/throughput-rps.svg')).toBeGreaterThan(
      md.indexOf('<a id="section-throughput">'),
    );

    const html = renderHtml(m);
    const verdicts = /<section id="verdicts">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    expect(verdicts).toContain('<figure id="chart-throughput-ranked-plaintext"><svg');
    expect(html.match(/id="chart-throughput-ranked-plaintext"/g)).toHaveLength(1);
    const section = /<section id="section-throughput">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    expect(section).toContain('id="chart-throughput-rps"');
  });
});

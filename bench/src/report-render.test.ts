import { describe, expect, it } from 'vitest';
import { renderChartSvg } from './chart-renderer.js';
import { renderHtml } from './report-html.js';
import { demoteHeadings, type ReportModel, renderMarkdown } from './report-markdown.js';
import { sampleResults } from './test-results-fixture.js';

async function model(): Promise<ReportModel> {
  const results = sampleResults({
    sections: [
      { ...sampleResults().sections[0], id: 'throughput' } as never,
      {
        id: 'balancer',
        title: 'Balancer',
        status: 'failed',
        error: 'iolab balance would not start',
        durationSeconds: 1,
        conclusions: [],
        commands: [],
        results: null,
      },
    ],
  });
  const svg = await renderChartSvg('rps', {
    data: {
      values: [
        { x: 1, y: 2 },
        { x: 2, y: 3 },
      ],
    },
    mark: 'line',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  });
  return {
    results,
    bodies: new Map([['throughput', '## Method\n\nSome <b>text</b>.\n\n| a | b |\n|---|---|\n| 1 | 2 |']]),
    charts: [
      { sectionId: 'throughput', id: 'rps', title: 'Requests/s', svg, file: 'charts/throughput-rps.svg' },
    ],
    comparison: undefined,
    comparisonNote: 'This is the first run.',
    warnings: [],
  };
}

describe('report rendering', () => {
  it('writes a self-contained HTML page with a table of contents, inline SVG and the failure reason', async () => {
    const html = renderHtml(await model());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<a href="#conclusions">Conclusions</a>');
    expect(html).toContain('<section id="section-throughput">');
    expect(html).toContain('<a href="#section-balancer">Balancer</a>');
    expect(html).toContain('<figure id="chart-throughput-rps"><svg');
    expect(html).toContain('iolab balance would not start');
    expect(html).toContain('<table>');
    expect(html).not.toMatch(/<script|<link |src="http/);
  });

  it('writes Markdown that references chart files and lists conclusions per section', async () => {
    const md = renderMarkdown(await model());
    expect(md).toContain('![Requests/s](charts/throughput-rps.svg)');
    expect(md).toContain('### Throughput\n\n- loop wins');
    expect(md).toContain('**FAILED**: iolab balance would not start');
    // A section's own ## headings are pushed below the report's ##.
    expect(md).toContain('### Method');
  });

  it('demotes headings outside code fences only', () => {
    expect(demoteHeadings('# A\n```\n# not a heading\n```\n## B')).toBe(
      '### A\n```\n# not a heading\n```\n#### B',
    );
  });
});

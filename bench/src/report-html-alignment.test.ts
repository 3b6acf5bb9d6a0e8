import { renderTable } from '@iolab/harness';
import { describe, expect, it } from 'vitest';
import { renderHtml } from './report-html.js';
import type { ReportModel } from './report-markdown.js';
import { sampleResults } from './test-results-fixture.js';

function model(body: string): ReportModel {
  return {
    results: sampleResults(),
    bodies: new Map([['throughput', body]]),
    charts: [],
    comparison: undefined,
    comparisonNote: 'first run',
    warnings: [],
  };
}

/** The page's CSS rules as [selector, declarations] pairs. */
function cssRules(html: string): [string, string][] {
  const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  const withoutComments = css.replace(/\/\*[\s\S]*?\*\//g, '');
  return [...withoutComments.matchAll(/([^{}]+)\{([^}]*)\}/g)].map((m) => [
    (m[1] ?? '').trim(),
    (m[2] ?? '').trim(),
  ]);
}

describe('HTML tables', () => {
  const table = renderTable(
    ['model', { title: 'req/s', align: 'right' }, 'status'],
    [
      ['loop', '10,000', 'ok'],
      ['bio', '0', '**failed**'],
    ],
  );
  const html = renderHtml(model(`## Results\n\n${table}`));

  it('keeps the Markdown alignment: numeric cells carry align="right" and the CSS right-aligns them', () => {
    expect(html).toContain('<td align="right">10,000</td>');
    expect(html).toContain('<th align="right">req/s</th>');
    const rules = cssRules(html);
    const right = rules.find(([sel]) => sel.split(',').some((s) => s.trim() === '[align="right"]'));
    expect(right?.[1]).toMatch(/text-align:\s*right/);
  });

  it('sets no left alignment that would override a cell with an align attribute', () => {
    for (const [selector, declarations] of cssRules(html)) {
      if (!/text-align:\s*left/.test(declarations)) continue;
      for (const sel of selector.split(',').map((s) => s.trim())) {
        // Allowed: cells without an align attribute, or explicitly left-aligned ones.
        expect(sel === '[align="left"]' || /:not\(\[align\]\)$/.test(sel), `selector ${sel}`).toBe(true);
      }
    }
  });

  it('shows the status word in the row itself', () => {
    expect(html).toMatch(/<td[^>]*><strong>failed<\/strong><\/td>/);
  });

  it('lets the verdict matrix cells wrap, so five connection-count columns fit 1280 px', () => {
    const rule = cssRules(html).find(([sel]) => sel === '#verdicts td');
    expect(rule?.[1]).toMatch(/white-space:\s*normal/);
    expect(html).toContain('<section id="verdicts">');
  });
});

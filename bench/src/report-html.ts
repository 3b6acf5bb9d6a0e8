/**
 * reports/index.html: one self-contained file (inline CSS and SVG, no scripts, no network), so it opens from
 * disk or an email attachment with every chart in place.
 */
import { marked } from 'marked';
import { chartsOfBlock, type ReportModel, reportBlocks, reportHeadline } from './report-markdown.js';

const CSS = `
:root { color-scheme: light; --fg: #1d232a; --muted: #5b6570; --line: #e3e7eb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
.layout { display: grid; grid-template-columns: 250px minmax(0, 1fr); max-width: 1400px; margin: 0 auto; }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; padding: 24px 16px; border-right: 1px solid var(--line); font-size: 14px; }
nav h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 8px; }
nav ol { padding-left: 18px; margin: 0; } nav li { margin: 4px 0; }
main { padding: 24px 40px 80px; min-width: 0; }
h1 { font-size: 28px; margin: 0 0 4px; } .headline { color: var(--muted); margin: 0 0 24px; }
section { border-top: 1px solid var(--line); padding-top: 8px; margin-top: 24px; }
h2 { font-size: 22px; } h3 { font-size: 17px; margin-top: 24px; } h4 { font-size: 15px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; display: block; overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; white-space: nowrap; }
/* The Markdown's own column alignment (marked writes it as align="…") wins: numbers stay right-aligned. */
th:not([align]), td:not([align]), [align="left"] { text-align: left; }
[align="right"] { text-align: right; } [align="center"] { text-align: center; }
td:last-child { white-space: normal; min-width: 12ch; }
/* The verdict matrix has one column per connection count (five in a full run): its cells wrap so it fits 1280 px. */
#verdicts td { white-space: normal; min-width: 14ch; }
th { background: #f5f7f9; } tr:nth-child(even) td { background: #fafbfc; }
td { font-variant-numeric: tabular-nums; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; padding: 1px 4px; border-radius: 3px; }
pre { background: #f6f8fa; padding: 12px; overflow-x: auto; border-radius: 4px; } pre code { background: none; padding: 0; }
blockquote { margin: 12px 0; padding: 8px 16px; border-left: 4px solid #f59e0b; background: #fffbeb; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 8px 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; max-width: 100%; overflow-x: auto; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.chart-error { color: #b91c1c; }
@media (max-width: 900px) { .layout { display: block; } nav { position: static; border-right: 0; border-bottom: 1px solid var(--line); max-height: none; } main { padding: 16px; } }
@media print { nav { display: none; } .layout { display: block; } }
`;

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** Strips the XML prologue a standalone SVG may carry; inline SVG must start at the element. */
function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

/** Renders index.html. */
export function renderHtml(model: ReportModel): string {
  const blocks = reportBlocks(model);
  const toc = blocks.map((b) => `<li><a href="#${b.anchor}">${escapeHtml(b.title)}</a></li>`).join('\n');
  const body = blocks
    .map((block, index) => {
      const charts = chartsOfBlock(model, block, index);
      const figures = charts
        .map((chart) =>
          chart.svg
            ? `<figure id="chart-${escapeHtml(chart.sectionId)}-${escapeHtml(chart.id)}">${inlineSvg(chart.svg)}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`
            : `<p class="chart-error">Chart “${escapeHtml(chart.title)}” failed: ${escapeHtml(chart.error ?? '')}</p>`,
        )
        .join('\n');
      const html = marked.parse(block.markdown, { async: false, gfm: true });
      return `<section id="${block.anchor}">\n<h2>${escapeHtml(block.title)}</h2>\n${html}\n${figures ? `<div class="charts">${figures}</div>` : ''}\n</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iolab report — ${escapeHtml(model.results.startedAt)}</title>
<style>${CSS}</style>
</head>
<body>
<div class="layout">
<nav><h2>Contents</h2><ol>
${toc}
</ol></nav>
<main>
<h1>iolab report</h1>
<p class="headline">${escapeHtml(reportHeadline(model.results))}</p>
${body}
</main>
</div>
</body>
</html>
`;
}

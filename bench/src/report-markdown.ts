/**
 * reports/REPORT.md: the whole report as Markdown (charts referenced as SVG files beside it). The HTML report
 * is rendered from the same pieces, so the two never disagree.
 */
import { mdEscape, renderTable } from '@iolab/harness';
import type { RunComparison } from './results-history.js';
import type { BenchResults, SectionRecord } from './results-schema.js';

export interface RenderedChart {
  readonly sectionId: string;
  readonly id: string;
  readonly title: string;
  /** The SVG document, or undefined when rendering failed (then `error` says why). */
  readonly svg: string | undefined;
  readonly error?: string;
  /** Path relative to the reports folder, for REPORT.md. */
  readonly file: string;
  /** Placed right after the verdict matrix (the ranked bar charts) rather than in its section. */
  readonly headline?: boolean;
}

export interface ReportModel {
  readonly results: BenchResults;
  /** Section id → its Markdown body (method, tables, caveats). */
  readonly bodies: ReadonlyMap<string, string>;
  readonly charts: readonly RenderedChart[];
  readonly comparison: RunComparison | undefined;
  /** Why there is no comparison (first run, unusable previous file, ...). */
  readonly comparisonNote: string;
  /** Warnings of the orchestrator itself (stray processes killed, charts that failed). */
  readonly warnings: readonly string[];
}

/** A top-level block of the report: its anchor, heading and Markdown body. Charts are placed by the renderers. */
export interface ReportBlock {
  readonly anchor: string;
  readonly title: string;
  readonly markdown: string;
  readonly sectionId?: string;
}

// One escaping rule for every table in the report: the harness's.
export { mdEscape };

/**
 * Shifts the headings of a section body so its top level is `###`: the report owns `#` and `##`.
 * Lines inside fenced code blocks are left alone.
 */
export function demoteHeadings(markdown: string, topLevel = 3): string {
  const lines = markdown.split('\n');
  let inFence = false;
  let min = 7;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    else if (!inFence) {
      const match = /^(#{1,6})\s/.exec(line);
      if (match?.[1]) min = Math.min(min, match[1].length);
    }
  }
  const shift = min === 7 ? 0 : Math.max(0, topLevel - min);
  if (shift === 0) return markdown;
  inFence = false;
  return lines
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return line;
      }
      if (inFence) return line;
      return line.replace(/^(#{1,6})(\s)/, (_m, hashes: string, space: string) => {
        return `${'#'.repeat(Math.min(6, hashes.length + shift))}${space}`;
      });
    })
    .join('\n');
}

function formatNumber(value: number | null, digits = 1): string {
  if (value === null) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

function formatDelta(value: number | null): string {
  if (value === null) return '–';
  const sign = value > 0 ? '+' : '';
  return `${sign}${value.toFixed(1)}%`;
}

function statusLine(section: SectionRecord): string {
  if (section.status === 'ok') return `completed in ${section.durationSeconds.toFixed(0)} s`;
  return `**${section.status.toUpperCase()}**: ${mdEscape(section.error ?? 'no reason given')}`;
}

function conclusionsBlock(model: ReportModel): string {
  const parts: string[] = [];
  const failed = model.results.sections.filter((s) => s.status !== 'ok');
  if (model.results.aborted)
    parts.push('> **This run was interrupted (Ctrl-C / SIGTERM); results are partial.**\n');
  if (failed.length > 0) {
    parts.push('**Experiments that did not complete:**\n');
    for (const section of failed) parts.push(`- ${mdEscape(section.title)}: ${statusLine(section)}`);
    parts.push('');
  }
  for (const section of model.results.sections) {
    if (section.conclusions.length === 0) continue;
    parts.push(`### ${section.title}\n`);
    for (const line of section.conclusions) parts.push(`- ${line}`);
    parts.push('');
  }
  if (parts.length === 0) parts.push('No experiment produced conclusions in this run.');
  return parts.join('\n');
}

function environmentBlock(results: BenchResults): string {
  const env = results.environment;
  const rows: [string, string][] = [
    ['CPU', `${env.cpuModel} × ${env.cores} cores`],
    ['Memory', `${(env.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ['Kernel', `${env.kernel} (${env.platform})`],
    ['Node.js', env.node],
    ['ulimit -n (bench process)', `soft ${env.ulimitNoFile.soft}, hard ${env.ulimitNoFile.hard}`],
    ['Pinning', env.pinning],
    [
      'Git commit',
      env.gitCommit ? `${env.gitCommit}${env.gitDirty ? ' (with uncommitted changes)' : ''}` : 'unknown',
    ],
    ['Host', env.hostname],
    ['Started', results.startedAt],
    ['Finished', `${results.finishedAt} (${results.durationSeconds.toFixed(0)} s)`],
    ['Mode', results.quick ? 'quick (reduced matrix)' : 'full'],
  ];
  for (const [tool, version] of Object.entries(env.tools)) rows.push([tool, version ?? 'not installed']);
  const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${mdEscape(k)} | ${mdEscape(v)} |`)];
  const packages = Object.entries(env.packages)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, version]) => `\`${name}@${version}\``)
    .join(', ');
  return `${table.join('\n')}\n\n**Packages:** ${packages}\n`;
}

function flipsBlock(cmp: RunComparison): string {
  if (cmp.flippedVerdicts.length === 0) return 'No verdict significant in both runs changed its winner.';
  return [
    `**${cmp.flippedVerdicts.length} verdict(s) flipped** since the last run (significant both times, different winner): distrust these first.`,
    '',
    ...cmp.flippedVerdicts.map(
      (f) =>
        `- FLIPPED: ${mdEscape(f.experiment)} ${mdEscape(f.workload)} × ${f.connections.toLocaleString('en-US')}: ${mdEscape(f.previousWinner)} → ${mdEscape(f.currentWinner)}`,
    ),
  ].join('\n');
}

function comparisonBlock(model: ReportModel): string {
  const cmp = model.comparison;
  if (!cmp) return model.comparisonNote;
  if (cmp.cells.length === 0)
    return `${flipsBlock(cmp)}\n\nNo cell of this run matches a cell of the run of ${cmp.previousStartedAt}.`;
  const names = cmp.metricNames;
  const lines = [
    flipsBlock(cmp),
    '',
    `Against the run of ${cmp.previousStartedAt}${cmp.sameMode ? '' : ' (a run of the other mode: quick vs full, so durations and repetitions differ)'}.` +
      ` ${cmp.cells.length} cells in both runs; ${cmp.onlyInCurrent} only in this run, ${cmp.onlyInPrevious} only in the last.` +
      ' Δ is (this − last) / last; the machine is shared and noisy, so read small deltas as noise.',
    '',
    `| section | cell | ${names.map((n) => `${mdEscape(n)} last | now | Δ`).join(' | ')} |`,
    `|---|---|${names.map(() => '---:|---:|---:').join('|')}|`,
  ];
  for (const cell of cmp.cells) {
    const cols = names.map((name) => {
      const d = cell.metrics[name];
      return d
        ? `${formatNumber(d.previous)} | ${formatNumber(d.current)} | ${formatDelta(d.deltaPercent)}`
        : '– | – | –';
    });
    lines.push(`| ${mdEscape(cell.sectionId)} | ${mdEscape(cell.key)} | ${cols.join(' | ')} |`);
  }
  return lines.join('\n');
}

function commandsBlock(results: BenchResults): string {
  const lines = ['The orchestrator:', '', '```sh', results.commandLine, '```', ''];
  for (const section of results.sections) {
    if (section.commands.length === 0) continue;
    lines.push(`**${section.title}** (${section.commands.length} command lines)`, '', '```sh');
    lines.push(...section.commands);
    lines.push('```', '');
  }
  return lines.join('\n');
}

/**
 * The answer at a glance: workload × connections → the winner, its ratio over the runner-up with the 95 % CI,
 * or "tie". Straight from results.json's `verdicts`, so it can never disagree with them.
 */
export function verdictMatrixBlock(results: BenchResults): string {
  const verdicts = results.verdicts ?? [];
  if (verdicts.length === 0) {
    return '_No comparison had two comparable cells with status ok in this run: no verdict is stated._';
  }
  const out: string[] = [];
  for (const experiment of [...new Set(verdicts.map((v) => v.experiment))]) {
    const own = verdicts.filter((v) => v.experiment === experiment);
    const connections = [...new Set(own.map((v) => v.connections))].sort((a, b) => a - b);
    const workloads = [...new Set(own.map((v) => v.workload))];
    const cell = (workload: string, conns: number): string => {
      // Several comparisons may share a cell (the balancer against each peer): all are shown, one per line.
      const found = own.filter((x) => x.workload === workload && x.connections === conns);
      if (found.length === 0) return '–';
      return found
        .map((v) => {
          const ci = `${v.ci95[0].toFixed(2)}–${v.ci95[1].toFixed(2)}`;
          return v.winner === null
            ? `tie${found.length > 1 ? ` with ${mdEscape(v.runnerUp)}` : ''} (${v.ratio.toFixed(2)}×, CI ${ci})`
            : `**${mdEscape(v.winner)}** ${v.ratio.toFixed(2)}× ${mdEscape(v.runnerUp)} (CI ${ci})`;
        })
        .join('<br>');
    };
    out.push(
      `**${mdEscape(experiment)}** — winner over the runner-up, 95 % confidence interval of the ratio; a winner is named only when the interval excludes 1.`,
      '',
      renderTable(
        [
          'workload',
          ...connections.map((c) => ({
            title: `${c.toLocaleString('en-US')} conns`,
            align: 'right' as const,
          })),
        ],
        workloads.map((w) => [mdEscape(w), ...connections.map((c) => cell(w, c))]),
      ),
      '',
    );
  }
  return out.join('\n');
}

/** The report's blocks, in order; both renderers walk this list. The verdict matrix always comes first. */
export function reportBlocks(model: ReportModel): ReportBlock[] {
  const blocks: ReportBlock[] = [
    { anchor: 'verdicts', title: 'Verdicts', markdown: verdictMatrixBlock(model.results) },
    { anchor: 'conclusions', title: 'Conclusions', markdown: conclusionsBlock(model) },
    { anchor: 'environment', title: 'Environment', markdown: environmentBlock(model.results) },
  ];
  for (const section of model.results.sections) {
    const body = model.bodies.get(section.id) ?? '';
    const status = section.status === 'ok' ? '' : `${statusLine(section)}\n\n`;
    blocks.push({
      anchor: `section-${section.id}`,
      title: section.title,
      markdown: `${status}${demoteHeadings(body)}`,
      sectionId: section.id,
    });
  }
  blocks.push({
    anchor: 'comparison',
    title: 'Compared with the last run',
    markdown: comparisonBlock(model),
  });
  blocks.push({ anchor: 'commands', title: 'Command lines', markdown: commandsBlock(model.results) });
  if (model.warnings.length > 0) {
    blocks.push({
      anchor: 'warnings',
      title: 'Warnings',
      markdown: model.warnings.map((w) => `- ${mdEscape(w)}`).join('\n'),
    });
  }
  return blocks;
}

export function reportHeadline(results: BenchResults): string {
  const ok = results.sections.filter((s) => s.status === 'ok').length;
  return (
    `${results.quick ? 'Quick' : 'Full'} run of ${results.startedAt}, ${results.durationSeconds.toFixed(0)} s on ` +
    `${results.environment.cores} × ${results.environment.cpuModel}; ${ok}/${results.sections.length} experiments completed` +
    `${results.aborted ? ' (interrupted)' : ''}.`
  );
}

/**
 * The charts a block shows: the verdict block (always first) gets the headline charts — one ranked bar chart
 * per workload — so the answer at a glance is a table and a picture; a section gets its own other charts.
 */
export function chartsOfBlock(model: ReportModel, block: ReportBlock, index: number): RenderedChart[] {
  if (index === 0) return model.charts.filter((c) => c.headline === true);
  return model.charts.filter(
    (c) => c.headline !== true && block.sectionId !== undefined && c.sectionId === block.sectionId,
  );
}

function markdownCharts(charts: readonly RenderedChart[]): string[] {
  return charts.flatMap((chart) => [
    chart.svg
      ? `![${mdEscape(chart.title)}](${chart.file})`
      : `_Chart “${mdEscape(chart.title)}” failed: ${mdEscape(chart.error ?? '')}_`,
    '',
  ]);
}

/** Renders REPORT.md. */
export function renderMarkdown(model: ReportModel): string {
  const blocks = reportBlocks(model);
  // The verdict matrix opens the report, before the contents: it is the answer most readers came for.
  const [first, ...rest] = blocks as [ReportBlock, ...ReportBlock[]];
  const out = ['# iolab report', '', reportHeadline(model.results), ''];
  out.push(`<a id="${first.anchor}"></a>`, '', `## ${first.title}`, '', first.markdown, '');
  out.push(...markdownCharts(chartsOfBlock(model, first, 0)), '## Contents', '');
  for (const block of rest) out.push(`- [${block.title}](#${block.anchor})`);
  out.push('');
  rest.forEach((block, i) => {
    out.push(`<a id="${block.anchor}"></a>`, '', `## ${block.title}`, '', block.markdown, '');
    out.push(...markdownCharts(chartsOfBlock(model, block, i + 1)));
  });
  return `${out.join('\n')}\n`;
}

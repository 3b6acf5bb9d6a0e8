/**
 * Results → report section: method, per-workload tables, skipped cells, open loop, wrk cross-check, caveats,
 * and Vega-Lite chart specs (rendered by the bench orchestrator).
 */
import { type ChartSpec, type ReportSection, renderTable } from '@iolab/harness';
import { fmtMs, fmtRate, throughputConclusions } from './conclusions.js';
import { rankedCharts } from './ranked-chart.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';
import { relayVerdict, throughputVerdicts, verdictLines } from './verdicts.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

function pct(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(0)}`;
}

/** " (4 answered)" when the warm-up ended with connections that never got an answer (queued, starved). */
function served(cell: CellRecord): string {
  const n = cell.loadgen?.servedAfterWarmup;
  return n !== undefined && n < cell.connections ? ` (${n.toLocaleString('en-US')} answered)` : '';
}

/**
 * The status word every row carries in both tables, so a failed or generator-bound cell is named in words
 * (not only by a colour or a missing number) wherever the reader looks.
 */
function statusWord(cell: CellRecord): string {
  if (cell.status !== 'ok' || !cell.summary) return `**${cell.status}**`;
  return cell.summary.status === 'ok' ? 'ok' : `**${cell.summary.status}**`;
}

function reasonOf(cell: CellRecord): string {
  return (cell.reason ?? '').replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 140);
}

/** model · conns · status lead both tables, so the status is never the column that scrolls off-screen. */
function rowHead(cell: CellRecord): string {
  return `| ${cell.modelLabel} | ${cell.connections.toLocaleString('en-US')}${served(cell)} | ${statusWord(cell)} |`;
}

function throughputRow(cell: CellRecord): string {
  const s = cell.summary;
  if (!s || cell.status !== 'ok') return `${rowHead(cell)} ${reasonOf(cell)} ||||||`;
  const rps = s.requestsPerSec;
  const spread = rps.spreadPercent === null ? '' : ` ±${(rps.spreadPercent / 2).toFixed(0)}%`;
  return (
    `${rowHead(cell)} ${rps.median === null ? '–' : fmtRate(rps.median)}${spread} | ` +
    `${fmtMs(s.p50Ms.median)} | ${fmtMs(s.p99Ms.median)} | ${fmtMs(s.p999Ms.median)} | ${s.errors.toLocaleString('en-US')} | ${s.refusals.toLocaleString('en-US')}${cell.serverStats?.refused ? ` (server: ${cell.serverStats.refused.toLocaleString('en-US')})` : ''} |`
  );
}

function resourceRow(cell: CellRecord): string {
  const s = cell.summary;
  if (!s || cell.status !== 'ok') return `${rowHead(cell)} – | – | – | – | – |`;
  return (
    `${rowHead(cell)} ${fmtMs(s.serverRssMiB)} | ${s.serverThreads ?? '–'} | ${pct(s.serverCpuPercent)} | ${s.ctxSwitchesPerSec === null ? '–' : fmtRate(s.ctxSwitchesPerSec)} | ` +
    `${pct(s.loadgenCpuPercent)} |`
  );
}

/**
 * Two tables per workload rather than one of fourteen columns: at 1280 px the wide one pushed its status
 * column off-screen. Throughput and latency first (what the verdict rests on), then the resources behind them.
 */
export function workloadTables(results: Pick<ThroughputResults, 'workloads' | 'cells'>): string {
  const out: string[] = [];
  for (const [id, label] of Object.entries(results.workloads)) {
    const cells = results.cells
      .filter((c) => c.workload === id && c.status !== 'skipped')
      .sort((a, b) => a.connections - b.connections || a.model.localeCompare(b.model));
    if (cells.length === 0) continue;
    out.push(
      `#### ${label}`,
      '',
      '| model | conns | status | req/s (median ± half-range) | p50 ms | p99 ms | p99.9 ms | errors | refusals |',
      '|---|---:|---|---:|---:|---:|---:|---:|---:|',
      ...cells.map(throughputRow),
      '',
      `Resources, ${label}:`,
      '',
      '| model | conns | status | RSS MiB | threads | server CPU % | ctx sw/s | gen CPU % |',
      '|---|---:|---|---:|---:|---:|---:|---:|',
      ...cells.map(resourceRow),
      '',
    );
  }
  return out.join('\n');
}

function skippedList(results: ThroughputResults): string {
  const skipped = results.cells.filter((c) => c.status === 'skipped');
  if (skipped.length === 0) return 'No cell was skipped.';
  const byReason = new Map<string, string[]>();
  for (const cell of skipped) {
    const reason = `${cell.modelLabel}: ${cell.reason ?? ''}`;
    byReason.set(reason, [
      ...(byReason.get(reason) ?? []),
      `${cell.workloadLabel} × ${cell.connections.toLocaleString('en-US')}`,
    ]);
  }
  return [...byReason.entries()].map(([reason, list]) => `- ${reason} (${list.join(', ')})`).join('\n');
}

function openLoopTable(results: ThroughputResults): string {
  if (results.openLoop.length === 0) return 'Not run.';
  const lines = [
    `| model | basis req/s (closed loop) | offered → achieved req/s (p99 ms) | sustainable at p99 ≤ ${results.p99TargetMs} ms |`,
    '|---|---:|---|---:|',
  ];
  for (const o of results.openLoop) {
    const steps =
      o.status === 'ok'
        ? o.steps
            .map(
              (s) =>
                `${fmtRate(s.offeredRate)} → ${fmtRate(s.achievedRate)} (${fmtMs(s.p99Ms)})${s.loadgenSaturated ? '*' : ''}`,
            )
            .join('; ')
        : `${o.status}: ${(o.reason ?? '').replaceAll('|', '/').slice(0, 160)}`;
    lines.push(
      `| ${o.modelLabel} | ${o.basisRps === null ? '–' : fmtRate(o.basisRps)} | ${steps} | ${o.sustainableRps === null ? '–' : fmtRate(o.sustainableRps)} |`,
    );
  }
  lines.push('', '`*` the generator could not keep its schedule at that step.');
  return lines.join('\n');
}

function wrkTable(results: ThroughputResults): string {
  if (results.wrkCrossCheck.length === 0) return 'wrk is not installed: no cross-check.';
  const lines = [
    '| model | autocannon req/s | valid | wrk req/s | wrk p99 ms | wrk ÷ autocannon |',
    '|---|---:|---|---:|---:|---:|',
  ];
  for (const w of results.wrkCrossCheck) {
    const ratio = w.wrkRps !== null && w.autocannonRps ? (w.wrkRps / w.autocannonRps).toFixed(2) : '–';
    lines.push(
      `| ${w.modelLabel} | ${w.autocannonRps === null ? '–' : fmtRate(w.autocannonRps)} | ${w.autocannonValid === null ? '–' : w.autocannonValid ? 'yes' : 'no'} | ` +
        `${w.wrkRps === null ? (w.error ?? '–').replaceAll('|', '/').slice(0, 80) : fmtRate(w.wrkRps)} | ${fmtMs(w.wrkP99Ms)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

function chartRows(results: ThroughputResults): Record<string, unknown>[] {
  return results.cells
    .filter((c) => c.status === 'ok' && c.summary)
    .map((c) => ({
      model: c.model,
      workload: c.workloadLabel,
      connections: c.connections,
      requestsPerSec: c.metrics.requestsPerSec,
      p99Ms: c.metrics.p99Ms !== null ? Math.max(c.metrics.p99Ms, 0.01) : null,
      rssMiB: c.metrics.rssMiB,
      valid: c.summary?.valid ? 'valid' : 'generator-bound',
    }));
}

function lineChart(
  id: string,
  title: string,
  rows: Record<string, unknown>[],
  field: string,
  axisTitle: string,
  logY: boolean,
): ChartSpec {
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title,
      data: { values: rows },
      facet: { field: 'workload', type: 'nominal', title: null },
      columns: 2,
      spec: {
        width: 260,
        height: 180,
        layer: [
          {
            mark: { type: 'line', point: false },
            encoding: {
              x: { field: 'connections', type: 'quantitative', scale: { type: 'log' }, title: 'connections' },
              y: { field, type: 'quantitative', scale: logY ? { type: 'log' } : {}, title: axisTitle },
              color: { field: 'model', type: 'nominal', title: 'model' },
            },
          },
          {
            mark: { type: 'point', filled: true, size: 40 },
            encoding: {
              x: { field: 'connections', type: 'quantitative', scale: { type: 'log' } },
              y: { field, type: 'quantitative', scale: logY ? { type: 'log' } : {} },
              color: { field: 'model', type: 'nominal' },
              shape: { field: 'valid', type: 'nominal', title: 'cell' },
            },
          },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

function charts(results: ThroughputResults): ChartSpec[] {
  const rows = chartRows(results);
  const out: ChartSpec[] = [...rankedCharts(results)];
  if (rows.length > 0) {
    out.push(
      lineChart(
        'requests-per-second',
        'Requests/s against connections, per model',
        rows,
        'requestsPerSec',
        'req/s (median)',
        false,
      ),
    );
    out.push(
      lineChart(
        'p99-latency',
        'p99 latency (log scale) against connections, per model',
        rows,
        'p99Ms',
        'p99 ms (log)',
        true,
      ),
    );
    out.push(
      lineChart(
        'rss',
        'Server RSS against connections, per model',
        rows.filter((r) => r.rssMiB !== null),
        'rssMiB',
        'RSS MiB',
        false,
      ),
    );
  }
  const openRows = results.openLoop.flatMap((o) =>
    o.steps
      .filter((s) => s.p99Ms !== null)
      .map((s) => ({
        model: o.model,
        offered: s.offeredRate,
        p99Ms: Math.max(s.p99Ms as number, 0.01),
        p50Ms: Math.max(s.p50Ms ?? 0.01, 0.01),
      })),
  );
  if (openRows.length > 0) {
    out.push({
      id: 'latency-vs-offered-load',
      title: `Open-loop echo: p99 latency against offered load (target ${results.p99TargetMs} ms)`,
      spec: {
        $schema: SCHEMA,
        title: `Open loop, echo-lp: p99 against offered load (dashed: ${results.p99TargetMs} ms target)`,
        width: 520,
        height: 260,
        layer: [
          {
            data: { values: openRows },
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'offered', type: 'quantitative', title: 'offered req/s' },
              y: { field: 'p99Ms', type: 'quantitative', scale: { type: 'log' }, title: 'p99 ms (log)' },
              color: { field: 'model', type: 'nominal' },
            },
          },
          {
            data: { values: [{ target: results.p99TargetMs }] },
            mark: { type: 'rule', strokeDash: [4, 4], color: '#b91c1c' },
            encoding: { y: { field: 'target', type: 'quantitative' } },
          },
        ],
      },
    });
  }
  return out;
}

function commandsOf(results: ThroughputResults): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (line: string | undefined): void => {
    if (!line || seen.has(line)) return;
    seen.add(line);
    out.push(line);
  };
  for (const cell of results.cells) {
    add(cell.server?.commandLine);
    add(cell.loadgen?.commandLine);
  }
  const example = results.cells.find((c) => c.loadgen?.workerCommandLine);
  if (example?.loadgen)
    add(`# each load runs in its own process, e.g.: ${example.loadgen.workerCommandLine}`);
  for (const o of results.openLoop) for (const line of (o.serverCommandLine ?? '').split('\n')) add(line);
  for (const w of results.wrkCrossCheck) for (const line of (w.commandLine ?? '').split('\n')) add(line);
  return out;
}

function method(results: ThroughputResults): string {
  const t = results.timing;
  const sampleCell = results.cells.find((c) => c.server?.noFileLimit);
  const models = results.models
    .map((m) => `\`${m.id}\` (${m.serveArgs.length > 0 ? `\`${m.serveArgs.join(' ')}\`` : 'defaults'})`)
    .join(', ');
  return [
    `Each cell starts a fresh \`iolab serve\` process and measures it from a separate load-generator process: ` +
      `at least ${t.warmupSec} s of warm-up (discarded), then ${t.repetitions} repetitions of ${t.durationSec} s; tables give the median and half the range across repetitions. ` +
      `HTTP load is autocannon (closed loop, one request in flight per connection, no pipelining), run once per cell on the same connections: an adaptive warm-up that lasts until every connection has been answered once (at most ${t.warmupCapSec} s), then the repetitions as back-to-back windows, latency recorded per window at microsecond resolution; framed echo is \`@iolab/loadgen\`'s generator with every response verified. ` +
      `Server CPU, context switches, threads and RSS come from /proc of the server and its child processes, read by the generator process right before, near the end of, and after each repetition.`,
    '',
    `- Models: ${models}.`,
    `- Pinning: ${results.pinning.note}. Cores: ${results.cores}.`,
    `- Open files: children raise their own \`ulimit -n\` (towards 65,535, capped by the hard limit)${sampleCell ? `; the servers got ${sampleCell.server?.noFileLimit}, the generators ${sampleCell.loadgen?.noFileLimit ?? '?'}` : ''}.`,
    `- Validity: a cell is **invalid** when the generator used ≥ 90% of its core while the server stayed under 90% of the cores it may use — then the number is the generator's ceiling, not the server's.`,
    `- Refusals: HTTP non-2xx answers (bio and the connection-mode pool answer 503 beyond their caps) and, for echo-lp, refused or immediately closed connections and error replies. Errors: resets, failed connects and timeouts. A model that refuses is recorded as refusing, not as a crash.`,
    '',
    '**The Node compromise.** In Node ≤ 24 a worker thread cannot own a socket. In `bio` and `pool` the main thread accepts, reads and writes every byte and relays it to and from the worker thread that runs the blocking handler. Their numbers therefore include that relay; the 1-connection /plaintext cells of bio vs loop measure its cost.',
  ].join('\n');
}

function caveats(results: ThroughputResults): string {
  const items = [
    'The machine may be shared: medians over short repetitions damp, but do not remove, noise from other work on it. Compare ratios within one run rather than absolute numbers across machines.',
    'autocannon is single-threaded JavaScript; at the top rates it can be the bottleneck (see the validity column and the wrk cross-check).',
    'Closed-loop latencies suffer from coordinated omission (a stalled server also stalls the sender); the open-loop table measures from scheduled send times instead.',
    'The pool in connection mode serves only as many connections as it has threads; the rest wait in its queue (shown as "N answered" in the conns column: connections answered at least once by the end of the warm-up) — which is the behaviour being measured.',
    ...results.warnings,
  ];
  return items.map((i) => `- ${i}`).join('\n');
}

export function buildThroughputSection(results: ThroughputResults): ReportSection {
  const verdicts = throughputVerdicts(results);
  const relay = relayVerdict(results);
  // Conclusions open with the verdicts themselves, so no sentence can contradict them.
  const conclusions = [...verdictLines(verdicts), ...throughputConclusions(results)];
  const markdown = [
    results.interrupted ? '> Interrupted: the matrix below is partial.\n' : '',
    '### Verdicts',
    '',
    "The two fastest single-core models of each workload × connection count, with the 95 % confidence interval of their ratio (Welch's t on log throughput over the measured windows). A winner is named only when the interval excludes 1. `loop × N workers` uses every core and is not ranked against them.",
    '',
    verdicts.length === 0
      ? '_No group had two comparable cells with status ok._'
      : renderTable(
          [
            'workload',
            { title: 'conns', align: 'right' },
            'winner',
            'runner-up',
            { title: 'ratio', align: 'right' },
            { title: '95 % CI', align: 'right' },
          ],
          verdicts.map((v) => [
            v.workload,
            v.connections.toLocaleString('en-US'),
            v.winner ?? 'tie within noise',
            v.runnerUp,
            `${v.ratio.toFixed(2)}×`,
            `${v.ci95[0].toFixed(2)}–${v.ci95[1].toFixed(2)}`,
          ]),
        ),
    '',
    '### Method',
    '',
    method(results),
    '',
    '### Results by workload',
    '',
    workloadTables(results),
    '### Cells not run',
    '',
    skippedList(results),
    '',
    '### Open loop: sustainable throughput at a p99 target',
    '',
    `Echo-lp at ${results.openLoop.length > 0 ? '10' : '–'} connections; offered rates are fractions of the model's best closed-loop echo rate in this run, stepped up until p99 exceeds ${results.p99TargetMs} ms. A step is sustained when ≥ 95% of the offered rate is served with p99 within the target and no errors.`,
    '',
    openLoopTable(results),
    '',
    '### wrk cross-check',
    '',
    wrkTable(results),
    '',
    '### Caveats',
    '',
    caveats(results),
  ].join('\n');
  return {
    id: 'throughput',
    title: 'Throughput: thread per connection vs pool vs event loop',
    markdown,
    conclusions,
    charts: charts(results),
    commands: commandsOf(results),
    results,
    verdicts: [...verdicts, ...(relay ? [relay] : [])],
  };
}

/**
 * Results → report section: method, verdicts, thread start-up, per-workload tables, relay vs owned, open loop,
 * and caveats; plus Vega-Lite chart specs (rendered by the bench orchestrator).
 */
import { type ChartSpec, type ReportSection, renderTable } from '@iolab/harness';
import { fmtMs, fmtRate, throughputConclusions } from './conclusions.js';
import { rankedCharts } from './ranked-chart.js';
import { startupWords } from './run-group.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';
import { relayLine, relayVerdicts, throughputVerdicts, verdictLines } from './verdicts.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

function pct(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(0)}`;
}

/**
 * The status word every row carries in both tables, so a failed or generator-bound cell is named in words
 * (not only by a colour or a missing number) wherever the reader looks.
 */
function statusWord(cell: CellRecord): string {
  if (cell.status !== 'ok' || !cell.summary) return `**${cell.status}**`;
  if (cell.summary.status !== 'ok') return `**${cell.summary.status}**`;
  // Measured fine, but on a core the generator also used: shown, never ranked.
  return cell.sharedCoreWithGenerator ? 'ok, shared core' : 'ok';
}

function reasonOf(cell: CellRecord): string {
  return (cell.reason ?? '').replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 140);
}

/** model · conns · status lead both tables, so the status is never the column that scrolls off-screen. */
function rowHead(cell: CellRecord): string {
  return `| ${cell.modelLabel} | ${cell.connections.toLocaleString('en-US')} | ${statusWord(cell)} |`;
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

/** Every model's start-up per workload, one column per connection count. */
function startupTable(cells: readonly CellRecord[]): string {
  const probed = cells.filter((c) => c.startup);
  if (probed.length === 0) return '_No start-up was measured._';
  const counts = [...new Set(probed.map((c) => c.connections))].sort((a, b) => a - b);
  const rows = new Map<string, { workload: string; model: string; byCount: Map<number, string> }>();
  for (const c of probed) {
    const key = `${c.workloadLabel}\u0000${c.modelLabel}`;
    const row = rows.get(key) ?? { workload: c.workloadLabel, model: c.modelLabel, byCount: new Map() };
    const st = c.startup as NonNullable<CellRecord['startup']>;
    row.byCount.set(
      c.connections,
      st.outcome === 'started'
        ? `${fmtMs(st.allAnsweredMs)} (${st.queuedByDesign ? `${st.connections} at once, the rest queue` : `p50 ${fmtMs(st.firstAnswerMs?.p50 ?? null)}`})`
        : `**${st.outcome === 'refused' ? 'refused' : 'did not start'}**: ${startupWords(st)}`,
    );
    rows.set(key, row);
  }
  return renderTable(
    [
      'workload',
      'model',
      ...counts.map((n) => ({ title: `${n.toLocaleString('en-US')} conns, ms`, align: 'right' as const })),
    ],
    [...rows.values()].map((r) => [r.workload, r.model, ...counts.map((n) => r.byCount.get(n) ?? '–')]),
  );
}

/** µs of server CPU per request: the relay's cost per request in the unit it is paid in. */
function cpuPerRequestUs(cell: CellRecord): number | null {
  const s = cell.summary;
  const rps = s?.requestsPerSec.median;
  if (!s || s.serverCpuPercent === null || !rps) return null;
  return (s.serverCpuPercent / 100 / rps) * 1e6;
}

function socketTable(results: ThroughputResults): string {
  if (results.socketCells.length === 0)
    return `Not measured: ${results.socketSkipped ?? 'no Node that can transfer sockets to worker threads'}.`;
  return renderTable(
    [
      'model',
      { title: 'conns', align: 'right' },
      'status',
      'socket',
      { title: 'req/s (median ± half-range)', align: 'right' },
      { title: 'p99 ms', align: 'right' },
      { title: 'start-up ms', align: 'right' },
      { title: 'RSS MiB', align: 'right' },
      { title: 'CPU µs/req', align: 'right' },
    ],
    [...results.socketCells]
      .sort((a, b) => a.connections - b.connections || a.model.localeCompare(b.model))
      .map((c) => {
        const s = c.summary;
        const rps = s?.requestsPerSec;
        const cpu = cpuPerRequestUs(c);
        return [
          c.modelLabel,
          c.connections.toLocaleString('en-US'),
          statusWord(c),
          c.serverStats?.socketMode ?? '?',
          rps?.median == null
            ? reasonOf(c) || '–'
            : `${fmtRate(rps.median)}${rps.spreadPercent === null ? '' : ` ±${(rps.spreadPercent / 2).toFixed(0)}%`}`,
          fmtMs(s?.p99Ms.median ?? null),
          c.startup
            ? c.startup.outcome === 'started'
              ? fmtMs(c.startup.allAnsweredMs)
              : startupWords(c.startup)
            : '–',
          fmtMs(s?.serverRssMiB ?? null),
          cpu === null ? '–' : cpu.toFixed(0),
        ];
      }),
  );
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
  const startupRows = results.cells
    .filter((c) => c.startup?.allAnsweredMs != null)
    .map((c) => ({
      model: c.model,
      workload: c.workloadLabel,
      connections: c.connections,
      startupMs: Math.max(c.startup?.allAnsweredMs ?? 0, 0.1),
      valid: c.startup?.outcome ?? 'started',
    }));
  if (startupRows.length > 0) {
    out.push(
      lineChart(
        'thread-start-up',
        'Thread start-up: ms until N new connections had all been answered once (log scale)',
        startupRows,
        'startupMs',
        'ms until all answered (log)',
        true,
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
  for (const cell of [...results.cells, ...results.socketCells]) {
    add(cell.server?.commandLine);
    add(cell.loadgen?.commandLine);
  }
  const example = results.cells.find((c) => c.loadgen?.workerCommandLine);
  if (example?.loadgen)
    add(`# each load runs in its own process, e.g.: ${example.loadgen.workerCommandLine}`);
  for (const o of results.openLoop) for (const line of (o.serverCommandLine ?? '').split('\n')) add(line);
  return out;
}

/** Which socket mode each model ended up in, from the servers' own stats lines. */
function socketModes(results: ThroughputResults): string {
  const modes = new Map<string, Set<string>>();
  for (const c of results.cells) {
    const mode = c.serverStats?.socketMode;
    if (!mode) continue;
    modes.set(c.model, (modes.get(c.model) ?? new Set()).add(mode));
  }
  const threaded = [...modes.entries()].map(([model, set]) => `\`${model}\` ${[...set].join('/')}`);
  // The loops have no threads to hand sockets to: the event loop owns every socket, the request-mode pool too.
  return [
    ...threaded,
    'the loops, node:http and the request-mode pool: the event loop owns every socket',
  ].join(', ');
}

function method(results: ThroughputResults): string {
  const t = results.timing;
  const sampleCell = results.cells.find((c) => c.server?.noFileLimit);
  const models = results.models
    .map((m) => `\`${m.id}\` (${m.serveArgs.length > 0 ? `\`${m.serveArgs.join(' ')}\`` : 'defaults'})`)
    .join(', ');
  const dropped = results.droppedForBudget.map((d) => `${d.what} (${d.why})`).join('; ');
  return [
    `The matrix runs in groups, one workload at one connection count. A group starts every model's \`iolab serve\` process together and keeps them all up (each pinned to the server core; an idle server costs next to nothing), measures each model's thread start-up (N new connections, one request each, until all N have had an answer; at most ${t.startupCapSec} s), warms each up for ${t.warmupSec} s (discarded), then measures ${t.repetitions} windows of ${t.durationSec} s per model in rotating order (A B C, B C A, C A B, …), so drift on a shared machine hits every model alike. Tables give the median and half the range over the windows; verdicts use every window.`,
    '',
    `- HTTP generator: ${results.generator.note}. ${results.generator.http === 'wrk' ? 'Each window is one wrk run, so connections are opened anew per window: the servers keep their threads between windows (bio reuses idle threads, as a cached thread pool does; the pool keeps its workers), and start-up is its own figure above the windows. ' : ''}Framed echo is \`@iolab/loadgen\`'s generator with every response verified. Latencies are **closed-loop** (one request in flight per connection, so a stalled server also stalls the sender); the open-loop table is the view free of coordinated omission.`,
    `- Servers ran on Node ${results.node.version} (\`${results.node.path}\`), one runtime for every model${results.node.socketTransfer ? ', one whose worker threads can own a transferred socket' : ', which cannot transfer sockets to worker threads'}. Socket mode per model, as each server reported it: ${socketModes(results)}. The generators ran on Node ${process.version}.`,
    `- Models: ${models}.`,
    `- Pinning: ${results.pinning.note}. Cores: ${results.cores}.`,
    `- Open files: children raise their own \`ulimit -n\` (towards 65,535, capped by the hard limit)${sampleCell ? `; the servers got ${sampleCell.server?.noFileLimit}, the generators ${sampleCell.loadgen?.noFileLimit ?? '?'}` : ''}.`,
    `- Status: **failed** when nothing answered or errors and timeouts exceed 1 % of requests; **invalid** when the generator used ≥ 90 % of its core while the server stayed under 90 % of the cores it may use (the generator set the pace); **ok, shared core** when the server ran on every core and so shared the generator's. Only plain \`ok\` cells take part in a verdict.`,
    `- Refusals: HTTP non-2xx answers (bio and the connection-mode pool answer 503 beyond their caps) and, for echo-lp, refused or immediately closed connections and error replies. Errors: resets, failed connects and timeouts.`,
    ...(dropped
      ? [
          `- Left out of the full run to keep ${t.repetitions} windows per cell within its budget: ${dropped}.`,
        ]
      : []),
  ].join('\n');
}

function caveats(results: ThroughputResults): string {
  const items = [
    'The machine may be shared: medians over short repetitions damp, but do not remove, noise from other work on it. Compare ratios within one run rather than absolute numbers across machines.',
    'Closed-loop latencies suffer from coordinated omission (a stalled server also stalls the sender); the open-loop table measures from scheduled send times instead.',
    'The pool in connection mode serves only as many connections as it has threads; the rest wait in its queue (the start-up table says how many it serves at once) — which is the behaviour being measured.',
    ...results.warnings,
  ];
  return items.map((i) => `- ${i}`).join('\n');
}

export function buildThroughputSection(results: ThroughputResults): ReportSection {
  const verdicts = throughputVerdicts(results);
  const relay = relayVerdicts(results);
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
    '### Thread start-up',
    '',
    `Time from opening N new connections at once (one request each, on a freshly started server) until all N had an answer, in ms, with the median connection's first answer in brackets. It is measured before any window, so throughput windows start after it. "did not start" means the cap (${results.timing.startupCapSec} s) passed first; "refused" means a thread cap answered the rest with a refusal.`,
    '',
    startupTable(results.cells),
    '',
    '### Results by workload',
    '',
    'Latencies in these tables are **closed-loop** (each connection sends its next request only after an answer, so a stalled server also slows the sender and the tail reads optimistic); the open-loop table further down measures from scheduled send times.',
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
    '### Relay vs owned sockets',
    '',
    `bio and the connection-mode pool twice each on the same Node (${results.node.version}), bio at 32 connections and the pool at as many as it has threads: \`--socket relay\` (the main thread owns every socket and moves bytes to the thread through shared memory) and \`--socket owned\` (the accepting thread transfers the socket; the connection's thread reads and writes it itself, as a Java thread blocked in \`read()\` does). Same groups, interleaving and windows as the matrix. CPU µs/req is the server's CPU over the windows divided by its requests.`,
    '',
    socketTable(results),
    '',
    ...relay.map((v) => `- ${relayLine(v)}`),
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
    verdicts: [...verdicts, ...relay],
  };
}

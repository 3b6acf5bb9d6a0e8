/**
 * The balancer section of the report: method, the summary table, the ratios against each peer with their
 * targets, caveats computed from the data (an unsaturated proxy, a starved client), the CPU profile and the
 * chart. Every number comes from {@link BalancerExperimentResults}.
 */
import { type ChartSpec, type Column, mdEscape, renderTable, SATURATION_CPU_PERCENT } from '@iolab/harness';
import type { BalancerExperimentResults, SummaryRow } from './results.js';
import { balancerVerdictLines, targetChecks, targetLine } from './verdicts.js';

/** Below this share of its core a proxy is not what limits throughput. */
const PROXY_SATURATED_PERCENT = 85;
/** A client at the harness's saturation share of its core may be what sets the pace. */
const CLIENT_SATURATED_PERCENT = SATURATION_CPU_PERCENT;

/** A number for a table cell, '–' for a missing one. */
export function fmt(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

// Two tables rather than one of ten columns, so each fits a 1280 px window: what the client saw, then the CPU
// it cost. client and target lead both.
const TRAFFIC_COLUMNS: readonly Column[] = [
  { title: 'client' },
  { title: 'target' },
  { title: 'req/s median', align: 'right' },
  { title: 'req/s min–max', align: 'right' },
  { title: 'p99 ms median', align: 'right' },
  { title: 'p99 min–max', align: 'right' },
  { title: 'errors', align: 'right' },
];

const CPU_COLUMNS: readonly Column[] = [
  { title: 'client' },
  { title: 'target' },
  { title: 'proxy CPU %', align: 'right' },
  { title: 'proxy µs CPU/req', align: 'right' },
  { title: 'client CPU %', align: 'right' },
];

/** The Markdown table plus method and caveats; every number comes from `results`. */
export function renderMarkdown(results: BalancerExperimentResults): string {
  const s = results.settings;
  const lines: string[] = [];
  lines.push(
    `HTTP/1.1 keep-alive, ${s.connections} connections, ${s.repetitions} interleaved repetitions of ` +
      `${s.durationSeconds} s after a ${s.warmupSeconds} s warm-up per target; backends: ${s.backend}. ` +
      (s.proxyCpu === null
        ? 'No CPU pinning (taskset missing or one CPU).'
        : `Every proxy pinned to CPU ${s.proxyCpu}; client and backends pinned to CPU ${s.clientCpu}.`) +
      ' `direct` = the client against backend A with no proxy.',
    '',
    renderTable(
      TRAFFIC_COLUMNS,
      results.summary.map((row) => [
        row.client,
        row.target,
        fmt(row.rpsMedian),
        `${fmt(row.rpsMin)}–${fmt(row.rpsMax)}`,
        fmt(row.p99Median, 2),
        `${fmt(row.p99Min, 2)}–${fmt(row.p99Max, 2)}`,
        String(row.errors),
      ]),
    ),
    '',
    renderTable(
      CPU_COLUMNS,
      results.summary.map((row) => [
        row.client,
        row.target,
        fmt(row.proxyCpuMedian),
        fmt(row.proxyCpuUsPerRequest, 1),
        fmt(row.clientCpuMedian),
      ]),
    ),
  );
  // The same lines as the conclusions (targetLine, balancerVerdictLines): the section and the summary at the
  // top of the report can never read differently.
  lines.push(
    '',
    ...targetChecks(results.runs).map((t) => `- ${targetLine(t)}`),
    ...balancerVerdictLines(results).map((l) => `- ${l}`),
  );
  for (const r of results.ratios.cpuPerRequestVsHaproxy) {
    lines.push(
      `- iolab ÷ HAProxy proxy CPU per request (${r.client}): **${fmt(r.value, 2)}×** (lower is better)`,
    );
  }
  for (const r of results.ratios.cpuPerRequestVsNaive) {
    lines.push(
      `- iolab ÷ naive proxy CPU per request (${r.client}): **${fmt(r.value, 2)}×** (lower is better)`,
    );
  }
  const unsaturated = results.summary.filter(
    (r) => r.proxyCpuMedian !== null && r.proxyCpuMedian < PROXY_SATURATED_PERCENT,
  );
  if (unsaturated.length > 0) {
    lines.push(
      '',
      `Caveat: no proxy row reached ${PROXY_SATURATED_PERCENT} % of its core (` +
        unsaturated.map((r) => `${r.target} ${fmt(r.proxyCpuMedian)} %`).join(', ') +
        '), so requests/s and p99 were set by the client, the backends or other load on the machine, not by ' +
        'the proxy; the proxy CPU µs per request column is the fairer comparison here.',
    );
  }
  if (results.skipped.length > 0) {
    lines.push('', 'Skipped:', ...results.skipped.map((x) => `- ${x.target}: ${x.reason}`));
  }
  const clientBound = results.summary.filter(
    (r) => r.clientCpuMedian !== null && r.clientCpuMedian >= CLIENT_SATURATED_PERCENT,
  );
  if (clientBound.length > 0) {
    lines.push(
      '',
      `Caveat: the client used ≥ ${CLIENT_SATURATED_PERCENT} % of its core for ${clientBound.map((r) => `${r.client}→${r.target}`).join(', ')}; ` +
        'there the client, not the proxy, may set the pace — compare proxy µs CPU/req instead.',
    );
  }
  if (results.profile) {
    lines.push(
      '',
      `CPU profile of iolab balance under the same load (${fmt(results.profile.totalMs)} ms busy), top self time (% of busy):`,
      '',
      renderTable(
        [{ title: 'self %', align: 'right' }, 'function'],
        results.profile.top.map((t) => [fmt(t.selfPercent, 1), `\`${mdEscape(t.name)}\``]),
      ),
    );
  }
  return lines.join('\n');
}

/**
 * One finding per promised target, judged on its 95 % CI, then iolab against each peer (winner only outside
 * the noise) — worded exactly as in the section.
 */
export function conclusions(results: BalancerExperimentResults): string[] {
  return [...targetChecks(results.runs).map(targetLine), ...balancerVerdictLines(results)];
}

/** Requests/s per target, one column per client. */
export function chart(summary: readonly SummaryRow[]): ChartSpec {
  return {
    id: 'balancer-rps',
    title: 'Requests/s through each proxy (median of repetitions)',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: {
        values: summary.map((r) => ({
          client: r.client,
          target: r.target,
          rps: r.rpsMedian,
          p99: r.p99Median,
        })),
      },
      mark: 'bar',
      encoding: {
        x: { field: 'target', type: 'nominal', sort: ['direct', 'iolab', 'haproxy', 'nginx', 'naive'] },
        y: { field: 'rps', type: 'quantitative', title: 'requests/s' },
        column: { field: 'client', type: 'nominal' },
        tooltip: [{ field: 'p99', type: 'quantitative', title: 'p99 ms' }],
      },
    },
  };
}

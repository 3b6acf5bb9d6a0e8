/**
 * The ranked bar chart the report leads with (after the verdict matrix): per workload, at its headline
 * connection count, every model's throughput with the 95 % CI of its mean as an error bar. The bar is the
 * geometric mean of the per-window figures and the interval is Student's t on their logarithms: the same
 * statistics the verdicts use (harness `ratioWithCi`), so a bar chart never contradicts a verdict.
 * Failed, invalid and all-cores cells are named by a word beside their bar, never only by a colour.
 */
import { type ChartSpec, studentTQuantile } from '@iolab/harness';
import { modelSpecs } from './models.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export interface RankedBar {
  readonly model: string;
  /** Geometric mean req/s over the windows; 0 for a failed cell (nothing to rank). */
  readonly requestsPerSec: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly status: 'ok' | 'invalid' | 'failed' | 'all cores';
  /** What the chart prints beside the bar: the figure, or the status word that disqualifies it. */
  readonly label: string;
}

/** Geometric mean and 95 % CI of the mean of positive windows (t on logs); null with fewer than two. */
export function meanWithCi(windows: readonly number[]): { mean: number; lo: number; hi: number } | null {
  if (windows.length < 2 || !windows.every((w) => w > 0 && Number.isFinite(w))) return null;
  const logs = windows.map(Math.log);
  const m = logs.reduce((s, x) => s + x, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - m) ** 2, 0) / (logs.length - 1));
  const half = studentTQuantile(0.975, logs.length - 1) * (sd / Math.sqrt(logs.length));
  return { mean: Math.exp(m), lo: Math.exp(m - half), hi: Math.exp(m + half) };
}

function cellStatus(cell: CellRecord, allCores: ReadonlySet<string>): RankedBar['status'] {
  if (cell.status !== 'ok' || !cell.summary || cell.summary.status === 'failed') return 'failed';
  if (cell.summary.status === 'invalid') return 'invalid';
  return allCores.has(cell.model) ? 'all cores' : 'ok';
}

/**
 * The headline connection count of a workload: the highest count at which at least two models ran (a
 * ranking needs two), else the highest count that ran at all. The most load is where the models part ways.
 */
export function headlineConnections(cells: readonly CellRecord[]): number | undefined {
  const ran = cells.filter((c) => c.status !== 'skipped');
  const counts = [...new Set(ran.map((c) => c.connections))].sort((a, b) => b - a);
  return counts.find((n) => ran.filter((c) => c.connections === n).length >= 2) ?? counts[0];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The bars of one workload at one connection count, fastest first. */
export function rankedBars(cells: readonly CellRecord[]): RankedBar[] {
  const allCores = new Set(
    modelSpecs()
      .filter((m) => m.needsAllCores)
      .map((m) => m.id),
  );
  const bars = cells
    .filter((c) => c.status !== 'skipped')
    .map((cell): RankedBar => {
      const status = cellStatus(cell, allCores);
      const windows = (cell.repetitions ?? []).map((r) => r.requestsPerSec);
      const est = status === 'failed' ? null : meanWithCi(windows);
      const value = status === 'failed' ? 0 : (est?.mean ?? cell.summary?.requestsPerSec.median ?? 0);
      const reason =
        status === 'failed'
          ? `FAILED${cell.summary?.statusReason ? `: ${cell.summary.statusReason}` : cell.reason ? `: ${cell.reason}` : ''}`
          : status === 'invalid'
            ? `INVALID (generator-bound) ${fmt(value)}`
            : status === 'all cores'
              ? `${fmt(value)} (all cores, not ranked)`
              : fmt(value);
      return {
        model: cell.modelLabel,
        requestsPerSec: value,
        ciLow: est?.lo ?? value,
        ciHigh: est?.hi ?? value,
        status,
        // Capped so the chart stays inside the 1280 px page (the full cause is in the table and conclusions).
        label: reason.length > 64 ? `${reason.slice(0, 63)}…` : reason,
      };
    });
  const rank = (b: RankedBar): number => (b.status === 'ok' ? 0 : b.status === 'all cores' ? 1 : 2);
  return bars.sort((a, b) => rank(a) - rank(b) || b.requestsPerSec - a.requestsPerSec);
}

/** One ranked bar chart per workload at its headline connection count. */
export function rankedCharts(results: Pick<ThroughputResults, 'workloads' | 'cells'>): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const [id, label] of Object.entries(results.workloads)) {
    const cells = results.cells.filter((c) => c.workload === id);
    const connections = headlineConnections(cells);
    if (connections === undefined) continue;
    const bars = rankedBars(cells.filter((c) => c.connections === connections));
    if (bars.length === 0) continue;
    const title = `${label} at ${connections.toLocaleString('en-US')} connections: req/s, 95 % CI`;
    const y = { field: 'model', type: 'nominal', sort: bars.map((b) => b.model), title: null };
    out.push({
      id: `ranked-${id}`,
      title,
      placement: 'headline',
      spec: {
        $schema: SCHEMA,
        title,
        width: 420,
        height: { step: 26 },
        data: { values: bars },
        layer: [
          {
            mark: { type: 'bar' },
            encoding: {
              y,
              x: {
                field: 'requestsPerSec',
                type: 'quantitative',
                title: 'req/s (geometric mean of windows)',
              },
              color: {
                field: 'status',
                type: 'nominal',
                title: 'cell',
                scale: {
                  domain: ['ok', 'all cores', 'invalid', 'failed'],
                  range: ['#2563eb', '#93c5fd', '#f59e0b', '#b91c1c'],
                },
              },
            },
          },
          {
            mark: { type: 'rule', strokeWidth: 1.5, color: '#111' },
            encoding: { y, x: { field: 'ciLow', type: 'quantitative' }, x2: { field: 'ciHigh' } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 },
            encoding: { y, x: { field: 'ciHigh', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    });
  }
  return out;
}

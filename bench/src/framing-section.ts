/**
 * The framing micro-benchmark (`@iolab/framing`'s own bench task, which turbo runs before the experiments)
 * writes plain rows — scenario, task, role, ops/s, MB/s, margin, ratio to the fastest peer — and its targets'
 * ratios to the path on its command line. This turns them into the report's framing section: the tables, the
 * conclusions and the chart are the report's, so the micro-benchmark never needs to know what a report is.
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ChartSpec, mdEscape, type ReportSection, renderTable } from '@iolab/harness';

/** Where `@iolab/framing`'s bench script writes (its `--out`), relative to that package's directory. */
const ROWS_FILE_IN_PACKAGE = join('bench-results', 'decode.json');

/** The rows file of the framing package this bench resolves (its `dist/` sits in the package directory). */
export function framingRowsPath(): string {
  const entry = createRequire(import.meta.url).resolve('@iolab/framing');
  return join(dirname(entry), '..', ROWS_FILE_IN_PACKAGE);
}

interface FramingRow {
  readonly scenario: string;
  readonly task: string;
  readonly role: string;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly rmePercent: number;
  readonly samples: number;
  readonly ratioToFastestPeer: number | null;
}

interface FramingTarget {
  readonly target: string;
  readonly ratio: number;
  readonly met: boolean | null;
}

interface FramingRows {
  readonly date: string;
  readonly node: string;
  readonly cpu: string | null;
  readonly cpus: number;
  readonly quick: boolean;
  readonly statistic: string;
  readonly command: string;
  readonly rows: readonly FramingRow[];
  readonly targets: readonly FramingTarget[];
}

function isFramingRows(value: unknown): value is FramingRows {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v.rows) &&
    Array.isArray(v.targets) &&
    v.rows.every(
      (r) =>
        typeof r === 'object' &&
        r !== null &&
        typeof (r as FramingRow).scenario === 'string' &&
        typeof (r as FramingRow).task === 'string' &&
        typeof (r as FramingRow).opsPerSec === 'number',
    )
  );
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(x >= 10 ? 1 : 2);
}

function chart(rows: readonly FramingRow[]): ChartSpec {
  return {
    id: 'framing-throughput',
    title: 'Decode throughput per scenario (median MB/s, log scale)',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: {
        values: rows.map(({ scenario, task, role, mbPerSec }) => ({ scenario, task, role, mbPerSec })),
      },
      mark: 'bar',
      encoding: {
        row: { field: 'scenario', type: 'nominal', header: { labelAngle: 0, labelAlign: 'left' } },
        y: { field: 'task', type: 'nominal', title: null },
        x: { field: 'mbPerSec', type: 'quantitative', scale: { type: 'log' }, title: 'MB/s' },
        color: { field: 'role', type: 'nominal' },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** The section built from already-parsed rows (exported for tests). */
export function framingSectionFrom(data: FramingRows, writtenAt: Date): ReportSection {
  const markdown = [
    `Results read from \`@iolab/framing\`'s bench rows, written ${writtenAt.toISOString()}. ` +
      `Node ${data.node}, ${data.cpu ?? 'cpu'} ×${data.cpus}, ${data.quick ? 'quick' : 'full'} run; ${data.statistic}`,
    '',
    renderTable(
      [
        'scenario',
        'task',
        { title: 'ops/s', align: 'right' },
        { title: 'MB/s', align: 'right' },
        { title: '±rme', align: 'right' },
        { title: 'samples', align: 'right' },
        { title: '× fastest peer', align: 'right' },
      ],
      data.rows.map((r) => [
        mdEscape(r.scenario),
        mdEscape(r.task),
        fmt(r.opsPerSec),
        fmt(r.mbPerSec),
        `${r.rmePercent.toFixed(1)}%`,
        String(r.samples),
        r.ratioToFastestPeer === null ? '—' : `${r.ratioToFastestPeer.toFixed(2)}×`,
      ]),
    ),
    '',
    renderTable(
      ['target', { title: 'measured', align: 'right' }, { title: 'met', align: 'center' }],
      data.targets.map((t) => [
        mdEscape(t.target),
        `${t.ratio.toFixed(2)}×`,
        t.met === null ? '—' : t.met ? 'yes' : 'NO',
      ]),
    ),
  ].join('\n');
  return {
    id: 'framing',
    title: 'Framing codecs (micro-benchmark)',
    markdown,
    conclusions: data.targets.map(
      (t) =>
        `${t.target}: measured ${t.ratio.toFixed(2)}×${t.met === null ? '.' : ` — ${t.met ? 'met' : 'NOT met'}.`}`,
    ),
    charts: [chart(data.rows)],
    commands: [data.command],
    results: data,
  };
}

/**
 * Reads the rows file and turns it into a section, or returns undefined when the file is not there.
 * @throws Error when the file is there but is not the framing bench's rows
 */
export async function framingSection(path: string): Promise<ReportSection | undefined> {
  let text: string;
  let modified: Date;
  try {
    text = await readFile(path, 'utf8');
    modified = (await stat(path)).mtime;
  } catch {
    return undefined;
  }
  const data = JSON.parse(text) as unknown;
  if (!isFramingRows(data)) throw new Error(`${path}: not the framing bench's rows (no rows/targets arrays)`);
  return framingSectionFrom(data, modified);
}

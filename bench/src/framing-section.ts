/**
 * The framing micro-benchmark is run by `@iolab/framing`'s own bench task (turbo runs it before this one);
 * it leaves reports/framing-bench.json, which becomes a section of the report when present. Its shape belongs
 * to that package, so this reads it defensively: a ReportSection-like object is used as is; otherwise rows of
 * flat objects become a table; anything else is shown as JSON.
 */
import { readFile, stat } from 'node:fs/promises';
import type { ChartSpec, ReportSection } from '@iolab/harness';
import { mdEscape } from './report-markdown.js';

/** Above this many rows the table is cut: a micro-benchmark with more cases should summarise itself. */
const MAX_TABLE_ROWS = 200;

type Row = Record<string, unknown>;

function isRowArray(value: unknown): value is Row[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((row) => typeof row === 'object' && row !== null && !Array.isArray(row))
  );
}

function cellText(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

function table(rows: Row[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((col) =>
    rows.some((row) => typeof row[col] !== 'object' || row[col] === null),
  );
  const lines = [
    `| ${columns.map(mdEscape).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows
      .slice(0, MAX_TABLE_ROWS)
      .map((row) => `| ${columns.map((col) => mdEscape(cellText(row[col] ?? ''))).join(' | ')} |`),
  ];
  if (rows.length > MAX_TABLE_ROWS)
    lines.push('', `(${rows.length - MAX_TABLE_ROWS} more rows in results.json)`);
  return lines.join('\n');
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** `targets: [{ target, ratio, met }]` (the framing bench's own pass/fail lines) → one finding each. */
function targetConclusions(targets: unknown): string[] {
  if (!isRowArray(targets)) return [];
  return targets
    .filter((t) => typeof t.target === 'string' && typeof t.ratio === 'number')
    .map(
      (t) =>
        `${t.target as string}: measured ${(t.ratio as number).toFixed(2)}× — ${t.met === true ? 'met' : 'NOT met'}.`,
    );
}

/** Reads `path` and turns it into a section, or returns undefined when the file is not there. */
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
  const obj = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const age = `Results read from \`reports/framing-bench.json\`, written ${modified.toISOString()} by \`@iolab/framing\`'s bench task.`;
  let body: string;
  if (typeof obj.markdown === 'string') body = obj.markdown;
  else if (isRowArray(data)) body = table(data);
  else {
    const tables = Object.entries(obj)
      .filter((entry): entry is [string, Row[]] => isRowArray(entry[1]))
      .map(([name, rows]) => `#### ${name}\n\n${table(rows)}`);
    const scalars = Object.entries(obj)
      .filter(([, value]) => typeof value !== 'object' || value === null)
      .map(([name, value]) => `- ${name}: ${mdEscape(cellText(value))}`);
    body =
      tables.length > 0
        ? `${scalars.join('\n')}\n\n${tables.join('\n\n')}`
        : `\`\`\`json\n${JSON.stringify(data, null, 2).slice(0, 20_000)}\n\`\`\``;
  }
  const charts = Array.isArray(obj.charts)
    ? (obj.charts as ChartSpec[]).filter((c) => typeof c?.id === 'string' && typeof c.spec === 'object')
    : [];
  return {
    id: 'framing',
    title: typeof obj.title === 'string' ? obj.title : 'Framing codecs (micro-benchmark)',
    markdown: `${age}\n\n${body}`,
    conclusions:
      stringList(obj.conclusions).length > 0 ? stringList(obj.conclusions) : targetConclusions(obj.targets),
    charts,
    commands:
      stringList(obj.commands).length > 0 ? stringList(obj.commands) : ['npm run bench -w @iolab/framing'],
    results: data,
  };
}

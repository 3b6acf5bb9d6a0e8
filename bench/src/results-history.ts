/**
 * Keeps earlier runs: before a run writes reports/results.json, the previous file moves to
 * reports/history/<its start time>.json, and the new report compares itself with it.
 *
 * Comparison convention (any section may follow it): `results.cells` is an array of
 * `{ key: string, metrics: { <name>: number | null } }`; cells with the same key in both runs are compared
 * metric by metric.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Verdict } from '@iolab/harness';
import { type BenchResults, RESULTS_SCHEMA_VERSION, resultsProblems } from './results-schema.js';

/** Old runs kept in reports/history; beyond this the oldest are deleted so the folder cannot grow forever. */
export const DEFAULT_HISTORY_KEEP = 50;

export interface RotatedRun {
  /** Where the previous results.json now lives. */
  readonly path: string;
  /** Its content when it parsed and matched this schema version, else undefined. */
  readonly results: BenchResults | undefined;
  /** Why `results` is undefined, when it is. */
  readonly unusableBecause?: string;
}

function stampOf(iso: string): string {
  return iso.replace(/[:.]/g, '-');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves `<reportsDir>/results.json` (when present) into `<reportsDir>/history/`, named by the run's start
 * time, prunes history to `keep` files, and returns the previous run for comparison.
 */
export async function rotateResults(
  reportsDir: string,
  keep = DEFAULT_HISTORY_KEEP,
): Promise<RotatedRun | undefined> {
  const current = join(reportsDir, 'results.json');
  if (!(await exists(current))) return undefined;
  let parsed: unknown;
  let unusableBecause: string | undefined;
  try {
    parsed = JSON.parse(await readFile(current, 'utf8'));
  } catch (error) {
    unusableBecause = `not JSON: ${(error as Error).message}`;
  }
  let results: BenchResults | undefined;
  if (parsed !== undefined) {
    const problems = resultsProblems(parsed);
    const version = (parsed as { schemaVersion?: unknown }).schemaVersion;
    if (version !== RESULTS_SCHEMA_VERSION) unusableBecause = `schema version ${String(version)}`;
    else if (problems.length > 0) unusableBecause = `does not match the schema (${problems[0]})`;
    else results = parsed as BenchResults;
  }
  const started = results?.startedAt ?? (await stat(current)).mtime.toISOString();
  const historyDir = join(reportsDir, 'history');
  await mkdir(historyDir, { recursive: true });
  let target = join(historyDir, `${stampOf(started)}.json`);
  for (let n = 1; (await exists(target)) && n < 1000; n++)
    target = join(historyDir, `${stampOf(started)}-${n}.json`);
  await rename(current, target);
  await pruneHistory(historyDir, keep);
  return unusableBecause === undefined
    ? { path: target, results }
    : { path: target, results, unusableBecause };
}

async function pruneHistory(historyDir: string, keep: number): Promise<void> {
  const files = (await readdir(historyDir)).filter((name) => name.endsWith('.json')).sort();
  for (const name of files.slice(0, Math.max(0, files.length - keep))) await rm(join(historyDir, name));
}

export interface MetricDelta {
  readonly previous: number | null;
  readonly current: number | null;
  /** (current − previous) / previous × 100, or null when either side is missing or previous is 0. */
  readonly deltaPercent: number | null;
}

export interface CellComparison {
  readonly sectionId: string;
  readonly key: string;
  readonly metrics: Readonly<Record<string, MetricDelta>>;
}

export interface RunComparison {
  readonly previousStartedAt: string;
  readonly sameMode: boolean;
  readonly metricNames: readonly string[];
  readonly cells: readonly CellComparison[];
  /** Cells present in only one of the runs. */
  readonly onlyInPrevious: number;
  readonly onlyInCurrent: number;
  /** Comparisons significant in both runs whose winner changed: the result to distrust first. */
  readonly flippedVerdicts: readonly FlippedVerdict[];
}

export interface FlippedVerdict {
  readonly experiment: string;
  readonly workload: string;
  readonly connections: number;
  readonly previousWinner: string;
  readonly currentWinner: string;
}

/** Verdicts of the same experiment × workload × connections, significant both times, with different winners. */
export function flippedVerdicts(previous: BenchResults, current: BenchResults): FlippedVerdict[] {
  const group = (v: Verdict): string => `${v.experiment}\u0000${v.workload}\u0000${v.connections}`;
  // A group holding several comparisons (the balancer against each peer) is told apart by the pair compared;
  // a group of one (the two fastest models) is one comparison even when its pair changed between runs.
  const shared = new Set<string>();
  for (const list of [previous.verdicts ?? [], current.verdicts ?? []]) {
    const seen = new Set<string>();
    for (const v of list) {
      if (seen.has(group(v))) shared.add(group(v));
      seen.add(group(v));
    }
  }
  const key = (v: Verdict): string =>
    shared.has(group(v))
      ? `${group(v)}\u0000${[v.winner ?? '', v.runnerUp].sort().join('\u0000')}`
      : group(v);
  const before = new Map((previous.verdicts ?? []).filter((v) => v.significant).map((v) => [key(v), v]));
  return (current.verdicts ?? []).flatMap((now) => {
    const old = before.get(key(now));
    if (!now.significant || !old || old.winner === null || now.winner === null || old.winner === now.winner)
      return [];
    return [
      {
        experiment: now.experiment,
        workload: now.workload,
        connections: now.connections,
        previousWinner: old.winner,
        currentWinner: now.winner,
      },
    ];
  });
}

interface Cell {
  readonly key: string;
  readonly metrics: Record<string, number | null>;
}

function cellsOf(results: unknown): Cell[] {
  const cells = (results as { cells?: unknown } | null | undefined)?.cells;
  if (!Array.isArray(cells)) return [];
  const out: Cell[] = [];
  for (const cell of cells) {
    const key = (cell as { key?: unknown })?.key;
    const metrics = (cell as { metrics?: unknown })?.metrics;
    if (typeof key !== 'string' || typeof metrics !== 'object' || metrics === null) continue;
    const numeric: Record<string, number | null> = {};
    for (const [name, value] of Object.entries(metrics)) {
      if (value === null || (typeof value === 'number' && Number.isFinite(value))) numeric[name] = value;
    }
    out.push({ key, metrics: numeric });
  }
  return out;
}

function delta(previous: number | null | undefined, current: number | null | undefined): MetricDelta {
  const p = previous ?? null;
  const c = current ?? null;
  const deltaPercent = p === null || c === null || p === 0 ? null : ((c - p) / Math.abs(p)) * 100;
  return { previous: p, current: c, deltaPercent };
}

/** Per-cell deltas between two runs, for every section that follows the `cells` convention. */
export function compareRuns(previous: BenchResults, current: BenchResults): RunComparison {
  const cells: CellComparison[] = [];
  const names = new Set<string>();
  let onlyInPrevious = 0;
  let onlyInCurrent = 0;
  for (const section of current.sections) {
    const before = previous.sections.find((s) => s.id === section.id);
    const nowCells = cellsOf(section.results);
    const beforeCells = new Map(cellsOf(before?.results).map((cell) => [cell.key, cell]));
    for (const cell of nowCells) {
      const old = beforeCells.get(cell.key);
      if (!old) {
        onlyInCurrent++;
        continue;
      }
      beforeCells.delete(cell.key);
      const metrics: Record<string, MetricDelta> = {};
      for (const name of new Set([...Object.keys(old.metrics), ...Object.keys(cell.metrics)])) {
        metrics[name] = delta(old.metrics[name], cell.metrics[name]);
      }
      // A cell measured in neither run (skipped both times) has nothing to compare.
      if (Object.values(metrics).every((d) => d.previous === null && d.current === null)) continue;
      for (const name of Object.keys(metrics)) names.add(name);
      cells.push({ sectionId: section.id, key: cell.key, metrics });
    }
    onlyInPrevious += beforeCells.size;
  }
  return {
    previousStartedAt: previous.startedAt,
    sameMode: previous.quick === current.quick,
    metricNames: [...names],
    cells,
    onlyInPrevious,
    onlyInCurrent,
    flippedVerdicts: flippedVerdicts(previous, current),
  };
}

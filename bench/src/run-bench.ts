/**
 * Runs the experiments one after another, keeps going when one fails, stops everything on abort, and writes
 * the report: REPORT.md, index.html, results.json (schema-checked) and charts/*.svg.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Experiment, killAllManaged, type ReportSection } from '@iolab/harness';
import { renderChartSvg } from './chart-renderer.js';
import { collectEnvironment } from './environment.js';
import { framingRowsPath, framingSection } from './framing-section.js';
import { findStrays, killStrays } from './process-sweep.js';
import type { ProgressReporter } from './progress-reporter.js';
import { renderHtml } from './report-html.js';
import { type RenderedChart, type ReportModel, renderMarkdown } from './report-markdown.js';
import { compareRuns, type RunComparison, rotateResults } from './results-history.js';
import { assertValidResults, type BenchResults, type SectionRecord } from './results-schema.js';

/** The CLI is a declared dependency: resolved like any package file, so no path into the tree is hard-coded. */
const DEFAULT_CLI_PATH = createRequire(import.meta.url).resolve('@iolab/cli/bin/iolab.js');

export interface ExperimentEntry {
  readonly id: string;
  readonly title: string;
  readonly run: Experiment;
  /** Why this experiment cannot run on this machine (e.g. "needs root"): recorded as skipped, not run. */
  readonly skip?: () => string | undefined;
}

/** A hung experiment must not hang the run: past this it is aborted and recorded as failed. */
export const DEFAULT_EXPERIMENT_DEADLINE_MS = { quick: 4 * 60_000, full: 25 * 60_000 } as const;
/** After an abort, how long an experiment gets to return before the orchestrator moves on without it. */
const ABORT_GRACE_MS = 20_000;

export interface RunBenchOptions {
  readonly quick: boolean;
  readonly repoRoot: string;
  readonly reportsDir: string;
  readonly experiments: readonly ExperimentEntry[];
  readonly signal: AbortSignal;
  readonly reporter: ProgressReporter;
  readonly commandLine: string;
  readonly deadlineMs?: number;
  /** The `iolab` script the experiments run; default the `@iolab/cli` dependency's bin/iolab.js. */
  readonly cliPath?: string;
  /** The framing micro-benchmark's rows file; default the one `@iolab/framing`'s bench task writes. */
  readonly framingRowsPath?: string;
}

export interface RunBenchOutcome {
  readonly results: BenchResults;
  readonly failed: readonly SectionRecord[];
  readonly aborted: boolean;
  readonly files: readonly string[];
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`;
  }
  return String(error);
}

function sectionId(id: string): string {
  return (
    id
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+/, '') || 'section'
  );
}

interface Outcome {
  readonly record: SectionRecord;
  readonly section: ReportSection | undefined;
}

function recordOf(
  entry: { id: string; title: string },
  section: ReportSection,
  seconds: number,
): SectionRecord {
  return {
    id: sectionId(section.id || entry.id),
    title: section.title || entry.title,
    status: 'ok',
    durationSeconds: seconds,
    conclusions: [...section.conclusions],
    commands: [...section.commands],
    results: section.results ?? null,
  };
}

async function runOne(entry: ExperimentEntry, options: RunBenchOptions): Promise<Outcome> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const failed = (status: 'failed' | 'skipped', error: string): Outcome => ({
    record: {
      id: sectionId(entry.id),
      title: entry.title,
      status,
      error,
      durationSeconds: seconds(),
      conclusions: [],
      commands: [],
      results: null,
    },
    section: undefined,
  });
  if (options.signal.aborted) return failed('skipped', 'not started: the run was interrupted');
  const skipReason = entry.skip?.();
  if (skipReason) return failed('skipped', skipReason);
  const deadlineMs = options.deadlineMs ?? DEFAULT_EXPERIMENT_DEADLINE_MS[options.quick ? 'quick' : 'full'];
  const own = new AbortController();
  const onAbort = (): void => own.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    own.abort(new Error(`deadline of ${deadlineMs / 1000} s passed`));
  }, deadlineMs);
  let graceTimer: NodeJS.Timeout | undefined;
  // Once aborted, give the experiment a bounded time to return on its own.
  const abandoned = new Promise<never>((_, reject) => {
    own.signal.addEventListener(
      'abort',
      () => {
        graceTimer = setTimeout(
          () => reject(new Error('did not stop within the abort grace period')),
          ABORT_GRACE_MS,
        );
      },
      { once: true },
    );
  });
  abandoned.catch(() => {});
  try {
    const section = await Promise.race([
      entry.run({
        quick: options.quick,
        progress: options.reporter.progress,
        signal: own.signal,
        cliPath: options.cliPath ?? DEFAULT_CLI_PATH,
      }),
      abandoned,
    ]);
    return { record: recordOf(entry, section, seconds()), section };
  } catch (error) {
    if (timedOut) return failed('failed', `timed out after ${deadlineMs / 1000} s: ${errorText(error)}`);
    if (options.signal.aborted) return failed('skipped', `interrupted: ${errorText(error)}`);
    return failed('failed', errorText(error));
  } finally {
    clearTimeout(deadline);
    clearTimeout(graceTimer);
    options.signal.removeEventListener('abort', onAbort);
  }
}

/** Stops whatever an experiment left running; returns a warning per process that had to be killed here. */
function sweep(after: string, baseline: readonly number[]): string[] {
  killAllManaged();
  const strays = killStrays(findStrays(process.pid, undefined, baseline));
  return strays.map((s) => `after ${after}: killed stray process ${s.pid} (${s.cmdline.slice(0, 200)})`);
}

async function renderCharts(
  sections: readonly { id: string; section: ReportSection }[],
): Promise<RenderedChart[]> {
  const charts: RenderedChart[] = [];
  for (const { id, section } of sections) {
    for (const chart of section.charts) {
      const chartId = sectionId(chart.id);
      const file = `charts/${id}-${chartId}.svg`;
      try {
        charts.push({
          sectionId: id,
          id: chartId,
          title: chart.title,
          svg: await renderChartSvg(chartId, chart.spec),
          file,
          ...(chart.placement === 'headline' ? { headline: true } : {}),
        });
      } catch (error) {
        charts.push({
          sectionId: id,
          id: chartId,
          title: chart.title,
          svg: undefined,
          error: errorText(error),
          file,
          ...(chart.placement === 'headline' ? { headline: true } : {}),
        });
      }
    }
  }
  return charts;
}

/** Runs every experiment and writes the report. Never throws for a failing experiment. */
export async function runBench(options: RunBenchOptions): Promise<RunBenchOutcome> {
  const startedAt = new Date();
  const t0 = performance.now();
  const { reporter } = options;
  const environment = collectEnvironment(options.repoRoot);
  const records: SectionRecord[] = [];
  const rendered: { id: string; section: ReportSection }[] = [];
  const bodies = new Map<string, string>();
  const warnings: string[] = [];
  // Helpers that were there before any experiment (tsx's esbuild service) are not strays.
  const baseline = findStrays(process.pid).map((p) => p.pid);

  try {
    const framing = await framingSection(options.framingRowsPath ?? framingRowsPath());
    if (framing) {
      records.push(recordOf({ id: 'framing', title: framing.title }, framing, 0));
      rendered.push({ id: 'framing', section: framing });
      bodies.set('framing', framing.markdown);
      reporter.log('framing micro-benchmark results found: included');
    } else
      reporter.log(
        'no framing bench rows (run `npm run bench -w @iolab/framing`): the framing section is left out',
      );
  } catch (error) {
    records.push({
      id: 'framing',
      title: 'Framing codecs (micro-benchmark)',
      status: 'failed',
      error: `framing bench rows unreadable: ${errorText(error)}`,
      durationSeconds: 0,
      conclusions: [],
      commands: [],
      results: null,
    });
  }

  for (const [index, entry] of options.experiments.entries()) {
    reporter.beginExperiment(entry.title, index + 1, options.experiments.length);
    const outcome = await runOne(entry, options);
    reporter.finish();
    const strays = sweep(entry.id, baseline);
    warnings.push(...strays);
    for (const warning of strays) reporter.log(`warning: ${warning}`);
    records.push(outcome.record);
    if (outcome.section) {
      rendered.push({ id: outcome.record.id, section: outcome.section });
      bodies.set(outcome.record.id, outcome.section.markdown);
    }
    const r = outcome.record;
    reporter.log(
      r.status === 'ok'
        ? `✔ ${r.title}: done in ${r.durationSeconds.toFixed(0)} s`
        : `✘ ${r.title}: ${r.status}: ${r.error ?? ''}`,
    );
  }

  reporter.log('rendering charts');
  const charts = await renderCharts(rendered);
  for (const chart of charts)
    if (chart.error) warnings.push(`chart ${chart.sectionId}/${chart.id}: ${chart.error}`);

  const finishedAt = new Date();
  const results: BenchResults = {
    schemaVersion: 1,
    quick: options.quick,
    aborted: options.signal.aborted,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    commandLine: options.commandLine,
    environment,
    sections: records,
    // Exactly the stated comparisons, in the shape the report's readers (and its verdict matrix) rely on.
    verdicts: rendered.flatMap(({ section }) =>
      (section.verdicts ?? []).map(
        ({ experiment, workload, connections, winner, runnerUp, ratio, ci95, significant }) => ({
          experiment,
          workload,
          connections,
          winner,
          runnerUp,
          ratio,
          ci95,
          significant,
        }),
      ),
    ),
  };
  // Validate before anything is moved or written, so a bad run never replaces a good file.
  assertValidResults(JSON.parse(JSON.stringify(results)));

  await mkdir(options.reportsDir, { recursive: true });
  const previous = await rotateResults(options.reportsDir);
  let comparison: RunComparison | undefined;
  let comparisonNote = 'This is the first run: there is no earlier results.json to compare with.';
  if (previous?.results) comparison = compareRuns(previous.results, results);
  else if (previous)
    comparisonNote = `The last run's file (${previous.path}) cannot be compared: ${previous.unusableBecause}.`;

  const model: ReportModel = { results, bodies, charts, comparison, comparisonNote, warnings };
  const chartsDir = join(options.reportsDir, 'charts');
  await rm(chartsDir, { recursive: true, force: true });
  await mkdir(chartsDir, { recursive: true });
  const files: string[] = [];
  for (const chart of charts) {
    if (!chart.svg) continue;
    const path = join(options.reportsDir, chart.file);
    await writeFile(path, chart.svg);
    files.push(path);
  }
  const write = async (name: string, content: string): Promise<void> => {
    const path = join(options.reportsDir, name);
    await writeFile(path, content);
    files.push(path);
  };
  await write('REPORT.md', renderMarkdown(model));
  await write('index.html', renderHtml(model));
  await write('results.json', `${JSON.stringify(results, null, 2)}\n`);
  return {
    results,
    failed: records.filter((r) => r.status !== 'ok'),
    aborted: options.signal.aborted,
    files,
  };
}

/**
 * Runs one cell's load in a separate, pinned process (load-worker.js) and returns what it measured.
 */
import { fileURLToPath } from 'node:url';
import { spawnManaged } from '@iolab/loadgen';
import { type LoadJob, type LoadJobResult, RESULT_LINE_PREFIX } from './load-job.js';
import { withRaisedNoFile } from './raised-limits.js';

/** The worker is compiled JS; this path resolves to dist/ from both src/ (tests) and dist/ (built). */
const WORKER = new URL('../dist/load-worker.js', import.meta.url);

/** Time on top of the planned run for process start, connection set-up and a slow shared machine. */
const WORKER_SLACK_MS = 30_000;

export interface LoadRun {
  readonly result: LoadJobResult;
  /** The worker's command line (taskset/setpriv/sh prefixes included). */
  readonly workerCommandLine: string;
  readonly pinned: boolean;
  readonly cpu: number | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function runLoad(job: LoadJob, cpu: number | undefined, signal: AbortSignal): Promise<LoadRun> {
  const steps = job.spec.kind === 'framed-open' ? job.spec.rates.length : job.repetitions;
  const plannedMs = (job.warmupSec + steps * (job.durationSec + 1)) * 1000;
  const { command, args } = withRaisedNoFile([process.execPath, fileURLToPath(WORKER), JSON.stringify(job)]);
  const child = await spawnManaged({
    command,
    args,
    cpu,
    signal,
    readyPattern: new RegExp(`^${escapeRegExp(RESULT_LINE_PREFIX)}(.+)$`),
    readyTimeoutMs: plannedMs + WORKER_SLACK_MS,
  });
  try {
    const result = JSON.parse(child.readyMatch[1] as string) as LoadJobResult;
    return { result, workerCommandLine: child.commandLine, pinned: child.pinned, cpu: child.cpu };
  } finally {
    await child.stop('SIGKILL', 1_000);
  }
}

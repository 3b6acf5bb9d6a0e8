/**
 * Entry of the load-generator process: `node load-worker.js '<LoadJob JSON>'`. Runs the warm-up and every
 * repetition of one cell, samples the server's /proc counters around each, and prints one result line.
 * Started (pinned, with a raised `ulimit -n`) by load-client.ts; never imported by the experiment itself.
 */
import { readFileSync } from 'node:fs';
import { diffSamples, type HttpLoadResult, type ProcSample, runHttpLoad } from '@iolab/loadgen';
import { sampleTree } from './process-tree.js';
import { type LoadJob, type LoadJobResult, RESULT_LINE_PREFIX, type RepetitionResult, type ServerUse } from './load-job.js';

/** Share of a repetition after which the server's RSS and threads are read (connections still open). */
const MID_SAMPLE_AT = 0.85;

function noFileLimit(): string | null {
  try {
    return /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

async function measured<T>(
  serverPid: number,
  durationSec: number,
  run: () => Promise<T>,
): Promise<{ value: T; server: ServerUse }> {
  const before = sampleTree(serverPid);
  let mid: ProcSample | undefined;
  const timer = setTimeout(() => {
    mid = sampleTree(serverPid);
  }, durationSec * 1000 * MID_SAMPLE_AT);
  try {
    const value = await run();
    const after = sampleTree(serverPid);
    const delta = before && after ? diffSamples(before, after) : undefined;
    const peak = mid ?? after;
    return {
      value,
      server: {
        cpuPercent: delta ? delta.cpuPercent : null,
        rssBytes: peak ? peak.rssBytes : null,
        threads: peak ? peak.threads : null,
        voluntaryCtxSwitches: delta ? delta.voluntaryCtxSwitches : null,
        nonvoluntaryCtxSwitches: delta ? delta.nonvoluntaryCtxSwitches : null,
        alive: after !== undefined,
      },
    };
  } finally {
    clearTimeout(timer);
  }
}

function fromHttp(result: HttpLoadResult, server: ServerUse): RepetitionResult {
  return {
    requests: result.requests,
    requestsPerSec: result.requestsPerSec,
    p50Ms: finite(result.latencyMs.p50),
    p99Ms: finite(result.latencyMs.p99),
    p999Ms: finite(result.latencyMs.p999),
    errors: result.errors,
    timeouts: result.timeouts,
    refusals: result.non2xx,
    loadgenCpuPercent: result.loadgenCpu ? result.loadgenCpu.cpuPercent : null,
    loadgenSaturated: result.loadgenCpu?.saturated ?? false,
    server,
  };
}

async function runJob(job: LoadJob): Promise<LoadJobResult> {
  const reps: RepetitionResult[] = [];
  let commandLine = '';
  const spec = job.spec;
  if (spec.kind === 'http') {
    const base = { url: spec.url, connections: spec.connections, timeoutSec: 5 };
    if (job.warmupSec > 0) await runHttpLoad({ ...base, durationSec: job.warmupSec });
    for (let i = 0; i < job.repetitions; i++) {
      const { value, server } = await measured(job.serverPid, job.durationSec, () =>
        runHttpLoad({ ...base, durationSec: job.durationSec }),
      );
      commandLine = value.commandLine;
      reps.push(fromHttp(value, server));
    }
  } else {
    const framed = await import('./framed-load.js');
    const out = await framed.runFramedJob(job, (durationSec, run) => measured(job.serverPid, durationSec, run));
    reps.push(...out.repetitions);
    commandLine = out.commandLine;
  }
  return { repetitions: reps, commandLine, noFileLimit: noFileLimit() };
}

const raw = process.argv[2];
let result: LoadJobResult;
try {
  if (!raw) throw new Error('usage: load-worker <LoadJob JSON>');
  result = await runJob(JSON.parse(raw) as LoadJob);
} catch (error) {
  result = {
    repetitions: [],
    commandLine: '',
    noFileLimit: noFileLimit(),
    error: error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error),
  };
}
process.stdout.write(`${RESULT_LINE_PREFIX}${JSON.stringify(result)}\n`);
// autocannon may leave sockets to a refusing server half-open; the result is out, so leave now.
process.exit(0);

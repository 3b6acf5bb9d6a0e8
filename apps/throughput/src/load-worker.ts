/**
 * Entry of the load-generator process (`node load-worker.js`), started once per experiment — pinned, with a
 * raised `ulimit -n` — by load-client.ts. For each job it runs the warm-up and every repetition of one cell and
 * samples the server's /proc counters around each window. Never imported by the experiment itself.
 */
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { diffSamples, type ProcSample, sampleTree } from '@iolab/harness';
import {
  type HttpLoadResult,
  type HttpWindow,
  measureFirstAnswers,
  runHttpWindows,
  runWrk,
} from '@iolab/loadgen';
import { runFramedJob } from './framed-load.js';
import {
  type LoadJob,
  type LoadJobResult,
  RESULT_LINE_PREFIX,
  type RepetitionResult,
  type ServerUse,
} from './load-job.js';

/**
 * Per-request timeout: a request unanswered this long counts as a timeout (a stalled or queued server). It is
 * long because a timeout makes autocannon reconnect, and for a thread-per-connection server every reconnect
 * is one more thread to start: with a short timeout, 100 bio threads booting on one pinned core (~60 ms each)
 * turn into endless reconnect churn and the cell measures the generator's impatience, not the server.
 */
const HTTP_TIMEOUT_SEC = 20;

/** A job is a few hundred bytes; a longer line is not from the experiment. */
const MAX_JOB_LINE_BYTES = 1024 * 1024;

/** Share of a repetition after which the server's RSS and threads are read (connections still open). */
const MID_SAMPLE_AT = 0.85;

function noFileLimit(): string | null {
  try {
    return /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Server samples around one measured window. */
class WindowSampler {
  readonly #serverPid: number;
  #before: ProcSample | undefined;
  #mid: ProcSample | undefined;
  constructor(serverPid: number) {
    this.#serverPid = serverPid;
  }
  start(): void {
    this.#before = sampleTree(this.#serverPid);
    this.#mid = undefined;
  }
  mid(): void {
    this.#mid = sampleTree(this.#serverPid);
  }
  end(): ServerUse {
    const after = sampleTree(this.#serverPid);
    const delta = this.#before && after ? diffSamples(this.#before, after) : undefined;
    const peak = this.#mid ?? after;
    return {
      cpuPercent: delta ? delta.cpuPercent : null,
      rssBytes: peak ? peak.rssBytes : null,
      threads: peak ? peak.threads : null,
      voluntaryCtxSwitches: delta ? delta.voluntaryCtxSwitches : null,
      nonvoluntaryCtxSwitches: delta ? delta.nonvoluntaryCtxSwitches : null,
      alive: after !== undefined,
    };
  }
}

async function measured<T>(
  serverPid: number,
  durationSec: number,
  run: () => Promise<T>,
): Promise<{ value: T; server: ServerUse; startedAtMs: number }> {
  const startedAtMs = Date.now();
  const sampler = new WindowSampler(serverPid);
  sampler.start();
  const timer = setTimeout(() => sampler.mid(), durationSec * 1000 * MID_SAMPLE_AT);
  try {
    const value = await run();
    return { value, server: sampler.end(), startedAtMs };
  } finally {
    clearTimeout(timer);
  }
}

function fromWindow(w: HttpWindow, server: ServerUse): RepetitionResult {
  return {
    requests: w.ok,
    requestsPerSec: w.ok / w.durationSec,
    p50Ms: w.p50Ms,
    p99Ms: w.p99Ms,
    p999Ms: w.p999Ms,
    errors: w.errors,
    timeouts: w.timeouts,
    refusals: w.non2xx,
    loadgenCpuPercent: w.loadgenCpuPercent,
    loadgenSaturated: w.loadgenSaturated,
    server,
  };
}

function fromWrk(result: HttpLoadResult, server: ServerUse): RepetitionResult {
  const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);
  const answered = Math.max(0, result.requests - result.non2xx);
  return {
    requests: answered,
    requestsPerSec: answered / result.durationSec,
    p50Ms: finite(result.latencyMs.p50),
    p99Ms: finite(result.latencyMs.p99),
    p999Ms: finite(result.latencyMs.p999),
    errors: result.errors,
    timeouts: result.timeouts,
    refusals: result.non2xx,
    loadgenCpuPercent: result.loadgenCpu?.cpuPercent ?? null,
    loadgenSaturated: result.loadgenCpu?.saturated ?? false,
    server,
  };
}

/**
 * wrk: one wrk run per window (wrk cannot pause), so each window reconnects; the server's /proc counters are
 * read around exactly that run. wrk inherits this worker's pinning and raised open-files limit.
 */
async function runWrkJob(job: LoadJob, url: string, connections: number): Promise<LoadJobResult> {
  const base = { url, connections, threads: 1, timeoutSec: HTTP_TIMEOUT_SEC };
  // wrk's -d takes whole seconds only.
  if (job.warmupSec > 0) await runWrk({ ...base, durationSec: Math.max(1, Math.ceil(job.warmupSec)) });
  const reps: RepetitionResult[] = [];
  let commandLine = '';
  for (let i = 0; i < job.repetitions; i++) {
    const { value, server, startedAtMs } = await measured(job.serverPid, job.durationSec, () =>
      runWrk({ ...base, durationSec: Math.max(1, Math.round(job.durationSec)) }),
    );
    commandLine = value.commandLine;
    reps.push({ ...fromWrk(value, server), startedAtMs });
  }
  return { repetitions: reps, commandLine, noFileLimit: noFileLimit() };
}

async function runJob(job: LoadJob): Promise<LoadJobResult> {
  const spec = job.spec;
  if (spec.kind === 'startup') {
    const startup = await measureFirstAnswers({
      host: spec.host,
      port: spec.port,
      connections: spec.connections,
      request: spec.request,
      capSec: spec.capSec,
    });
    return {
      repetitions: [],
      commandLine: `first-answer probe (@iolab/loadgen measureFirstAnswers) ${spec.host}:${spec.port} -c ${spec.connections} --cap ${spec.capSec}s`,
      noFileLimit: noFileLimit(),
      startup,
    };
  }
  if (spec.kind === 'http' && spec.generator === 'wrk') return runWrkJob(job, spec.url, spec.connections);
  if (spec.kind === 'http') {
    const reps: RepetitionResult[] = [];
    const sampler = new WindowSampler(job.serverPid);
    const uses: ServerUse[] = [];
    const starts: number[] = [];
    const out = await runHttpWindows({
      url: spec.url,
      connections: spec.connections,
      warmupSec: job.warmupSec,
      warmupCapSec: job.warmupCapSec,
      durationSec: job.durationSec,
      repetitions: job.repetitions,
      timeoutSec: HTTP_TIMEOUT_SEC,
      onWindow: (event) => {
        if (event === 'start') {
          sampler.start();
          starts.push(Date.now());
        } else if (event === 'mid') sampler.mid();
        else uses.push(sampler.end());
      },
    });
    out.windows.forEach((w, i) => {
      reps.push({ ...fromWindow(w, uses[i] as ServerUse), startedAtMs: starts[i] ?? Date.now() });
    });
    return {
      repetitions: reps,
      commandLine: out.commandLine,
      noFileLimit: noFileLimit(),
      warmupSec: out.warmupSec,
      servedAfterWarmup: out.servedAfterWarmup,
    };
  }
  const out = await runFramedJob(job, (durationSec, run) => measured(job.serverPid, durationSec, run));
  return { repetitions: out.repetitions, commandLine: out.commandLine, noFileLimit: noFileLimit() };
}

/**
 * Serves jobs over one loopback connection from the experiment: a JSON `LoadJob` per line in, a JSON
 * `LoadJobResult` per line out, one job at a time. Keeping this process for every cell saves a Node start and
 * the autocannon import per cell; it exits when the experiment closes the connection (or dies).
 */
function serveJobs(): void {
  const server = createServer((socket) => {
    server.close();
    let pending = '';
    let queue = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      if (pending.length > MAX_JOB_LINE_BYTES) socket.destroy();
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        queue = queue.then(async () => {
          const result = await runLine(line);
          if (!socket.destroyed) socket.write(`${RESULT_LINE_PREFIX}${JSON.stringify(result)}\n`);
        });
      }
    });
    socket.on('close', () => process.exit(0));
    socket.on('error', () => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as AddressInfo;
    process.stdout.write(`listening on 127.0.0.1:${address.port}\n`);
  });
}

async function runLine(line: string): Promise<LoadJobResult> {
  try {
    return await runJob(JSON.parse(line) as LoadJob);
  } catch (error) {
    return {
      repetitions: [],
      commandLine: '',
      noFileLimit: noFileLimit(),
      error:
        error instanceof Error
          ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
          : String(error),
    };
  }
}

serveJobs();

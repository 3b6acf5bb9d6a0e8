/**
 * HTTP load: autocannon as a library, and `wrk` (when installed) to cross-check the top rates, because
 * autocannon is single-threaded JavaScript and can run out of CPU before a fast server does.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findExecutable,
  formatCommandLine,
  type LoadgenCpu,
  pinPrefix,
  startSelfSampler,
  trackChild,
} from '@iolab/harness';
import autocannon from 'autocannon';
import { AbortedError, BadOptionError, LoadgenError } from './errors.js';

export interface HttpLoadOptions {
  readonly url: string;
  readonly connections: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining); 1 = one request, wait, next. */
  readonly pipelining?: number;
  readonly durationSec: number;
  /** A run of this length first, whose numbers are thrown away (JIT, TCP slow start, server pools). */
  readonly warmupSec?: number;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-request timeout; a request past it counts in `timeouts`. */
  readonly timeoutSec?: number;
  readonly signal?: AbortSignal;
}

export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export interface HttpLoadResult {
  readonly tool: 'autocannon' | 'wrk';
  readonly url: string;
  readonly connections: number;
  readonly pipelining: number;
  /** Measured duration of the counted run (after warm-up), seconds. */
  readonly durationSec: number;
  /** Responses received in the counted run. */
  readonly requests: number;
  readonly requestsPerSec: number;
  /**
   * Closed-loop latency: each connection sends its next request only after a response, so a stalled server
   * also stalls the sending and the slow period is sampled less often ("coordinated omission"). Read the
   * tail as optimistic; the framed generator's open-loop mode measures from scheduled send times instead.
   * Resolution: autocannon records whole milliseconds (sub-millisecond latencies read as 0); wrk, µs.
   */
  readonly latencyMs: LatencyMs;
  /** Connection-level errors (reset, refused), timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  /** Response bytes received. */
  readonly bytes: number;
  /** The generator's own CPU; for wrk this is `undefined` in-process (wrk is a separate process). */
  readonly loadgenCpu: LoadgenCpu | undefined;
  /** The command (wrk) or the equivalent autocannon CLI line, for the report. */
  readonly commandLine: string;
}

function checkCommon(options: { connections: number; durationSec: number; pipelining?: number }): void {
  if (!Number.isInteger(options.connections) || options.connections < 1) {
    throw new BadOptionError('connections', `must be a positive integer, got ${options.connections}`);
  }
  if (!(options.durationSec > 0))
    throw new BadOptionError('durationSec', `must be > 0, got ${options.durationSec}`);
  if (options.pipelining !== undefined && (!Number.isInteger(options.pipelining) || options.pipelining < 1)) {
    throw new BadOptionError('pipelining', `must be a positive integer, got ${options.pipelining}`);
  }
}

function runAutocannonOnce(
  options: HttpLoadOptions,
  durationSec: number,
): Promise<{ result: autocannon.Result; cpu: LoadgenCpu }> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortedError(`autocannon ${options.url}`));
      return;
    }
    const sampler = startSelfSampler();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: options.pipelining ?? 1,
        duration: durationSec,
        method: options.method ?? 'GET',
        body: options.body,
        headers: options.headers ? { ...options.headers } : undefined,
        timeout: options.timeoutSec ?? 10,
      },
      (error, result) => {
        options.signal?.removeEventListener('abort', onAbort);
        const cpu = sampler.stop();
        if (options.signal?.aborted) reject(new AbortedError(`autocannon ${options.url}`));
        else if (error) reject(new LoadgenError('IOLAB_LOADGEN_TOOL_OUTPUT', `autocannon: ${String(error)}`));
        else resolve({ result, cpu });
      },
    );
    const onAbort = (): void => instance.stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs autocannon in this process against `url`: an optional warm-up run, then the counted run.
 * Latencies are closed-loop and therefore subject to coordinated omission (see {@link HttpLoadResult.latencyMs}).
 * Check `loadgenCpu.saturated`: when true, the rate is autocannon's ceiling, not the server's.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  checkCommon(options);
  if (options.warmupSec && options.warmupSec > 0) await runAutocannonOnce(options, options.warmupSec);
  const { result, cpu } = await runAutocannonOnce(options, options.durationSec);
  const durationSec = result.duration > 0 ? result.duration : options.durationSec;
  const pipelining = options.pipelining ?? 1;
  const argv = ['autocannon', '-c', String(options.connections), '-p', String(pipelining)];
  argv.push('-d', String(options.durationSec));
  if (options.method && options.method !== 'GET') argv.push('-m', options.method);
  argv.push(options.url);
  return {
    tool: 'autocannon',
    url: options.url,
    connections: options.connections,
    pipelining,
    durationSec,
    requests: result.requests.total,
    requestsPerSec: result.requests.total / durationSec,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    bytes: result.throughput.total,
    loadgenCpu: cpu,
    commandLine: `${formatCommandLine(argv)}  # as a library, in-process${options.warmupSec ? `, after ${options.warmupSec}s warm-up` : ''}`,
  };
}

/** True when a `wrk` binary is on PATH. */
export function wrkAvailable(): boolean {
  return findExecutable('wrk') !== undefined;
}

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  /** wrk threads; default 1 (on 2 cores the other one belongs to the server). Capped at `connections`. */
  readonly threads?: number;
  /** Pipelined requests per connection, done with wrk's usual Lua pipeline script. */
  readonly pipelining?: number;
  readonly durationSec: number;
  readonly warmupSec?: number;
  readonly timeoutSec?: number;
  /** Pin wrk to this CPU with taskset. */
  readonly cpu?: number;
  readonly signal?: AbortSignal;
}

/** Bytes of wrk output kept: its report is ~1 KB; anything longer is not wrk output we can parse. */
const WRK_OUTPUT_CAP_BYTES = 64 * 1024;

function parseDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  const unit = match[2];
  const scale = unit === 'us' ? 1e-3 : unit === 'ms' ? 1 : unit === 's' ? 1e3 : unit === 'm' ? 6e4 : 3.6e6;
  return value * scale;
}

function parseBytes(text: string): number {
  const match = /^([\d.]+)([KMGT]?B)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const scale = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[match[2] as 'B'];
  return Number(match[1]) * scale;
}

/** Parses `wrk --latency` output. Exported for tests. */
export function parseWrkOutput(output: string): {
  requests: number;
  durationSec: number;
  requestsPerSec: number;
  bytes: number;
  latencyMs: LatencyMs;
  errors: number;
  timeouts: number;
  non2xx: number;
} {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(output);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const rps = num(/Requests\/sec:\s+([\d.]+)/);
  const summary = /(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/.exec(output);
  if (rps === undefined || !summary) {
    throw new LoadgenError('IOLAB_LOADGEN_TOOL_OUTPUT', `unrecognised wrk output: ${output.slice(0, 500)}`);
  }
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    return m?.[1] === undefined ? Number.NaN : parseDurationMs(m[1]);
  };
  const latencyLine = /^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const timeouts = socket ? Number(socket[4]) : 0;
  return {
    requests: Number(summary[1]),
    durationSec: parseDurationMs(summary[2] as string) / 1000,
    requestsPerSec: rps,
    bytes: parseBytes(summary[3] as string),
    latencyMs: {
      p50: pct('50'),
      p90: pct('90'),
      p99: pct('99'),
      // wrk's --latency stops at 99 %; p99.9 needs wrk2.
      p999: Number.NaN,
      max: latencyLine ? parseDurationMs(latencyLine[3] as string) : Number.NaN,
      mean: latencyLine ? parseDurationMs(latencyLine[1] as string) : Number.NaN,
    },
    errors: socket ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + timeouts : 0,
    timeouts,
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
  };
}

async function runWrkOnce(
  argv: string[],
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<string> {
  if (signal?.aborted) throw new AbortedError('wrk');
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < WRK_OUTPUT_CAP_BYTES) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const onAbort = (): void => void child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    // wrk stops itself after -d; this only catches a wedged wrk.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) =>
      reject(new LoadgenError('IOLAB_LOADGEN_SPAWN_FAILED', `wrk: ${error.message}`)),
    );
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new AbortedError('wrk'));
      else if (code !== 0) {
        reject(
          new LoadgenError('IOLAB_LOADGEN_TOOL_OUTPUT', `wrk exited ${code ?? sig}: ${output.slice(0, 500)}`),
        );
      } else resolve(output);
    });
  });
}

/**
 * Runs `wrk --latency` (a multi-threaded C generator) when installed. Latencies are closed-loop, like
 * autocannon's; p99.9 is not reported by wrk (NaN). Throws `IOLAB_LOADGEN_TOOL_MISSING` without wrk.
 */
export async function runWrk(options: WrkOptions): Promise<HttpLoadResult> {
  checkCommon(options);
  const wrk = findExecutable('wrk');
  if (!wrk) throw new LoadgenError('IOLAB_LOADGEN_TOOL_MISSING', 'wrk is not installed (apt install wrk)');
  const threads = Math.max(1, Math.min(options.threads ?? 1, options.connections));
  const pipelining = options.pipelining ?? 1;
  const prefix = pinPrefix(options.cpu);
  let scriptDir: string | undefined;
  try {
    const args = ['--latency', '-t', String(threads), '-c', String(options.connections)];
    args.push('--timeout', `${options.timeoutSec ?? 10}s`);
    if (pipelining > 1) {
      scriptDir = await mkdtemp(join(tmpdir(), 'iolab-wrk-'));
      const script = join(scriptDir, 'pipeline.lua');
      await writeFile(
        script,
        `init = function(args)\n  local r = {}\n  for i = 1, ${pipelining} do r[i] = wrk.format(nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`,
      );
      args.push('-s', script);
    }
    const timeoutMs = (options.durationSec + (options.timeoutSec ?? 10) + 10) * 1000;
    if (options.warmupSec && options.warmupSec > 0) {
      await runWrkOnce(
        [...prefix, wrk, ...args, '-d', `${options.warmupSec}s`, options.url],
        options.signal,
        timeoutMs,
      );
    }
    const argv = [...prefix, wrk, ...args, '-d', `${options.durationSec}s`, options.url];
    const output = await runWrkOnce(argv, options.signal, timeoutMs);
    const parsed = parseWrkOutput(output);
    return {
      tool: 'wrk',
      url: options.url,
      connections: options.connections,
      pipelining,
      ...parsed,
      loadgenCpu: undefined,
      commandLine: formatCommandLine(argv),
    };
  } finally {
    if (scriptDir) await rm(scriptDir, { recursive: true, force: true });
  }
}

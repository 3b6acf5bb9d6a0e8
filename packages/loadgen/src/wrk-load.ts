/**
 * HTTP load with `wrk` (C, multi-threaded) as a child process: the primary HTTP generator where installed,
 * because autocannon is single-threaded JavaScript and can be the ceiling before a fast server is.
 *
 * What one run looks like:
 *
 * ```text
 * /bin/sh -c WRK_SHELL  iolab-wrk <fds needed>  [setpriv --pdeathsig KILL --] [taskset -c N] wrk --latency … -s done.lua URL
 *   │  checks ulimit -n ≥ fds needed (exit 97 otherwise: wrk would quietly run with fewer connections)
 *   │  reads its own /proc/$$/stat  (cutime, cstime = CPU of children it has waited for)
 *   │  runs wrk in the foreground and waits for it
 *   │  reads /proc/$$/stat again      → the difference is exactly wrk's user + system CPU, all threads
 *   └─ prints both lines after wrk's report; wrk's done() in the Lua script prints p50…p99.9, max and the
 *      error counts as one parseable line each
 * ```
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  descendantsOf,
  findExecutable,
  formatCommandLine,
  type LoadgenCpu,
  type ProcSample,
  parseStat,
  pinPrefix,
  SATURATION_CPU_PERCENT,
  sampleProcess,
  ticksPerSecond,
  trackChild,
} from '@iolab/harness';
import { AbortedError, FdLimitError, LoadgenError } from './errors.js';
import { checkCommon, type HttpErrorBreakdown, type HttpLoadResult, type LatencyMs } from './http-load.js';

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
  /**
   * wrk's `--timeout`: a response slower than this counts in `timeouts` (and `errors`), not in the latency
   * histogram. Default {@link DEFAULT_WRK_TIMEOUT_SEC}.
   */
  readonly timeoutSec?: number;
  /** Pin wrk to this CPU with taskset. */
  readonly cpu?: number;
  readonly signal?: AbortSignal;
}

/** wrk's own default `--timeout` is 2 s; a thread-per-connection server starting threads can need longer. */
export const DEFAULT_WRK_TIMEOUT_SEC = 10;
/** Bytes of wrk output kept: its report is ~1 KB; anything longer is not wrk output we can parse. */
const WRK_OUTPUT_CAP_BYTES = 64 * 1024;
/**
 * Open files wrk needs beyond one per connection: stdin/out/err, one epoll fd per thread, the Lua script
 * while it loads, and resolver sockets. 16 covers them with room; the per-thread epoll fds are added.
 */
const WRK_FD_RESERVE = 16;
/** Window for the busiest-moment reading, as for autocannon's self-sampler (harness SELF_SAMPLE_INTERVAL_MS). */
const WRK_SAMPLE_INTERVAL_MS = 500;
/** The shell's exit status when `ulimit -n` is too low; outside wrk's own exit codes (0, 1, 2). */
const FD_LIMIT_EXIT_CODE = 97;

/**
 * The wrapper that measures wrk's CPU. Why this and not sampling /proc/<wrk pid>/stat: a sample has to be
 * taken before wrk exits, and nothing tells us when "just before" is — wrk's last moments (joining threads,
 * the report, the Lua done()) would be lost or the sample taken while wrk still runs. The kernel adds a
 * child's full user+system time, every thread included, to its parent's cutime/cstime the moment the
 * parent waits for it, so the shell's own counters after `wait` are exact. `read` and `printf` are dash/
 * bash builtins, so nothing else the shell runs is counted between the two readings. The `$(ulimit -n)`
 * subshell runs before the first reading.
 */
const WRK_SHELL = [
  'need=$1; shift',
  'limit=$(ulimit -n)',
  `if [ "$limit" != unlimited ] && [ "$limit" -lt "$need" ]; then printf 'IOLAB_WRK_NOFILE limit=%s need=%s\\n' "$limit" "$need"; exit ${FD_LIMIT_EXIT_CODE}; fi`,
  'read -r before < /proc/$$/stat',
  '"$@"',
  'status=$?',
  'read -r after < /proc/$$/stat',
  `printf 'IOLAB_WRK_STAT_BEFORE %s\\nIOLAB_WRK_STAT_AFTER %s\\n' "$before" "$after"`,
  'exit $status',
].join('\n');

/**
 * wrk's Lua hooks: the pipeline (when asked for) and a `done()` that prints what wrk's text report rounds
 * or leaves out — p99.9, exact µs, the run's exact duration and every error counter — one line each.
 */
function wrkScript(pipelining: number): string {
  const pipeline =
    pipelining > 1
      ? `init = function(args)\n  local r = {}\n  for i = 1, ${pipelining} do r[i] = wrk.format(nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`
      : '';
  return `${pipeline}done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("IOLAB_WRK_SUMMARY duration_us=%.0f requests=%.0f bytes=%.0f connect=%.0f read=%.0f write=%.0f timeout=%.0f status=%.0f\\n",
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("IOLAB_WRK_LATENCY_US p50=%.0f p90=%.0f p99=%.0f p999=%.0f max=%.0f mean=%.3f\\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
`;
}

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

/** `key=number` pairs of one of our marker lines, or undefined when the line is not there. */
function markerFields(output: string, marker: string): Map<string, number> | undefined {
  const line = new RegExp(`^${marker} (.*)$`, 'm').exec(output)?.[1];
  if (line === undefined) return undefined;
  const fields = new Map<string, number>();
  for (const pair of line.trim().split(/\s+/)) {
    const [key, value] = pair.split('=');
    if (key !== undefined && value !== undefined) fields.set(key, Number(value));
  }
  return fields;
}

/**
 * Parses `wrk --latency` output, preferring the exact lines our Lua `done()` prints (µs, p99.9, exact
 * duration) and falling back to wrk's rounded text report. Exported for tests.
 */
export function parseWrkOutput(output: string): {
  requests: number;
  durationSec: number;
  requestsPerSec: number;
  bytes: number;
  latencyMs: LatencyMs;
  errors: number;
  timeouts: number;
  non2xx: number;
  errorBreakdown: HttpErrorBreakdown;
} {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(output);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const rps = num(/Requests\/sec:\s+([\d.]+)/);
  // "  12345 requests in 10.01s, 1.50MB read": the measured duration, not the requested -d.
  const summaryText = /(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/.exec(output);
  if (rps === undefined || !summaryText) {
    throw new LoadgenError('IOLAB_LOADGEN_TOOL_OUTPUT', `unrecognised wrk output: ${output.slice(0, 500)}`);
  }
  const summary = markerFields(output, 'IOLAB_WRK_SUMMARY');
  const latencyUs = markerFields(output, 'IOLAB_WRK_LATENCY_US');
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    return m?.[1] === undefined ? Number.NaN : parseDurationMs(m[1]);
  };
  const latencyLine = /^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const textCount = (i: number): number => (socket ? Number(socket[i]) : 0);
  const field = (map: Map<string, number> | undefined, key: string, fallback: number): number => {
    const value = map?.get(key);
    return value !== undefined && Number.isFinite(value) ? value : fallback;
  };
  const requests = field(summary, 'requests', Number(summaryText[1]));
  const durationUs = field(summary, 'duration_us', parseDurationMs(summaryText[2] as string) * 1000);
  const breakdown: HttpErrorBreakdown = {
    connect: field(summary, 'connect', textCount(1)),
    read: field(summary, 'read', textCount(2)),
    write: field(summary, 'write', textCount(3)),
    timeout: field(summary, 'timeout', textCount(4)),
    non2xx: field(summary, 'status', num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0),
  };
  const us = (key: string, fallbackMs: number): number => {
    const value = latencyUs?.get(key);
    return value !== undefined && Number.isFinite(value) ? value / 1000 : fallbackMs;
  };
  // With no response at all wrk's histogram is empty and reads 0: say "no figure", not "0 ms".
  const noLatency = requests === 0;
  const latency = (value: number): number => (noLatency ? Number.NaN : value);
  return {
    requests,
    durationSec: durationUs / 1e6,
    requestsPerSec: summary ? (durationUs > 0 ? requests / (durationUs / 1e6) : 0) : rps,
    bytes: field(summary, 'bytes', parseBytes(summaryText[3] as string)),
    latencyMs: {
      p50: latency(us('p50', pct('50'))),
      p90: latency(us('p90', pct('90'))),
      p99: latency(us('p99', pct('99'))),
      // wrk's text report stops at 99 %; only our done() line has p99.9.
      p999: latency(us('p999', Number.NaN)),
      max: latency(us('max', latencyLine ? parseDurationMs(latencyLine[3] as string) : Number.NaN)),
      mean: latency(us('mean', latencyLine ? parseDurationMs(latencyLine[1] as string) : Number.NaN)),
    },
    errors: breakdown.connect + breakdown.read + breakdown.write + breakdown.timeout,
    timeouts: breakdown.timeout,
    non2xx: breakdown.non2xx,
    errorBreakdown: breakdown,
  };
}

/** CPU ms of the shell's waited-for children between the two stat lines the wrapper prints. */
function wrapperChildCpuMs(output: string): { userMs: number; systemMs: number } | undefined {
  const before = parseStat(/^IOLAB_WRK_STAT_BEFORE (.*)$/m.exec(output)?.[1] ?? '');
  const after = parseStat(/^IOLAB_WRK_STAT_AFTER (.*)$/m.exec(output)?.[1] ?? '');
  if (!before || !after) return undefined;
  const msPerTick = 1000 / ticksPerSecond();
  return {
    userMs: (after.childUtimeTicks - before.childUtimeTicks) * msPerTick,
    systemMs: (after.childStimeTicks - before.childStimeTicks) * msPerTick,
  };
}

/**
 * Busiest {@link WRK_SAMPLE_INTERVAL_MS} window of wrk's CPU while it runs (the total comes from the
 * wrapper, exactly; this is only the peak). wrk is the shell's only child; its pid does not change across
 * the setpriv/taskset execs.
 */
function startPeakSampler(shellPid: number | undefined): { stop(): number } {
  let wrkPid: number | undefined;
  let last: ProcSample | undefined;
  let peak = 0;
  const timer = setInterval(() => {
    if (shellPid === undefined) return;
    wrkPid ??= descendantsOf(shellPid)[1];
    if (wrkPid === undefined) return;
    const now = sampleProcess(wrkPid);
    if (!now) return;
    if (last) {
      const wall = now.atMs - last.atMs;
      const cpu = now.userCpuMs + now.systemCpuMs - last.userCpuMs - last.systemCpuMs;
      if (wall > 0) peak = Math.max(peak, (cpu / wall) * 100);
    }
    last = now;
  }, WRK_SAMPLE_INTERVAL_MS);
  timer.unref();
  return {
    stop(): number {
      clearInterval(timer);
      return peak;
    },
  };
}

interface WrkExit {
  readonly output: string;
  readonly wallMs: number;
  readonly peakCpuPercent: number;
}

async function runWrkOnce(
  argv: string[],
  fdsNeeded: number,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<WrkExit> {
  if (signal?.aborted) throw new AbortedError('wrk');
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    // Own process group, so an abort or a wedged run kills wrk too, not only the shell.
    const child = spawn('/bin/sh', ['-c', WRK_SHELL, 'iolab-wrk', String(fdsNeeded), ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    trackChild(child);
    const peak = startPeakSampler(child.pid);
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < WRK_OUTPUT_CAP_BYTES) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    signal?.addEventListener('abort', killGroup, { once: true });
    // wrk stops itself after -d; this only catches a wedged wrk.
    const timer = setTimeout(killGroup, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      peak.stop();
      reject(new LoadgenError('IOLAB_LOADGEN_SPAWN_FAILED', `wrk: ${error.message}`));
    });
    // 'close', not 'exit': the output must be complete before the marker lines are read.
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      const peakCpuPercent = peak.stop();
      signal?.removeEventListener('abort', killGroup);
      const wallMs = performance.now() - startedAt;
      if (signal?.aborted) {
        reject(new AbortedError('wrk'));
        return;
      }
      if (code === FD_LIMIT_EXIT_CODE) {
        const limit = /IOLAB_WRK_NOFILE limit=(\d+)/.exec(output)?.[1];
        reject(new FdLimitError('wrk', limit === undefined ? undefined : Number(limit), fdsNeeded));
        return;
      }
      if (/Too many open files/.test(output)) {
        // wrk's "unable to create thread N: Too many open files" (epoll_create hit the limit).
        reject(new FdLimitError('wrk', undefined, fdsNeeded));
        return;
      }
      if (code !== 0) {
        reject(
          new LoadgenError('IOLAB_LOADGEN_TOOL_OUTPUT', `wrk exited ${code ?? sig}: ${output.slice(0, 500)}`),
        );
        return;
      }
      resolve({ output, wallMs, peakCpuPercent });
    });
  });
}

/**
 * wrk's CPU in the same shape as autocannon's self-sampler. `cpuPercent` is in units of one core (100 = one
 * core busy the whole run), like every other LoadgenCpu; wrk can use up to one core per thread, so it is
 * `saturated` when it used ≥ {@link SATURATION_CPU_PERCENT} % of every core it could run on
 * (min(threads, cores it may use)). Wall time is the wrk process's whole life, connects and report included,
 * since that is what its CPU counts too.
 */
function wrkCpu(exit: WrkExit, threads: number, pinned: boolean): LoadgenCpu | undefined {
  const cpu = wrapperChildCpuMs(exit.output);
  if (!cpu) return undefined;
  const wallMs = Math.max(exit.wallMs, 1e-3);
  const cpuPercent = ((cpu.userMs + cpu.systemMs) / wallMs) * 100;
  const usableCores = Math.min(threads, pinned ? 1 : availableParallelism());
  return {
    wallMs,
    userCpuMs: cpu.userMs,
    systemCpuMs: cpu.systemMs,
    cpuPercent,
    peakCpuPercent: Math.max(exit.peakCpuPercent, cpuPercent),
    saturated: cpuPercent >= SATURATION_CPU_PERCENT * usableCores,
  };
}

/**
 * Runs `wrk --latency` (a multi-threaded C generator): an optional warm-up run, then the counted run.
 * Latencies are closed-loop (coordinated omission, see {@link HttpLoadResult.latencyMs}), in µs, with p99.9.
 * `loadgenCpu` is wrk's own CPU over the counted run; when `saturated`, the rate is wrk's ceiling.
 * Throws `IOLAB_LOADGEN_TOOL_MISSING` without wrk and `IOLAB_LOADGEN_FD_LIMIT` ({@link FdLimitError}) when
 * the inherited `ulimit -n` cannot hold `connections` sockets (this never raises the limit itself).
 */
export async function runWrk(options: WrkOptions): Promise<HttpLoadResult> {
  checkCommon(options);
  const wrk = findExecutable('wrk');
  if (!wrk) throw new LoadgenError('IOLAB_LOADGEN_TOOL_MISSING', 'wrk is not installed (apt install wrk)');
  const threads = Math.max(1, Math.min(options.threads ?? 1, options.connections));
  const pipelining = options.pipelining ?? 1;
  const timeoutSec = options.timeoutSec ?? DEFAULT_WRK_TIMEOUT_SEC;
  const pin = pinPrefix(options.cpu);
  // wrk dies with the shell (abort, timeout, this process killed): pdeathsig is set before wrk is exec'd.
  const setpriv = findExecutable('setpriv');
  const guard = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--'] : [];
  const fdsNeeded = options.connections + threads + WRK_FD_RESERVE;
  const scriptDir = await mkdtemp(join(tmpdir(), 'iolab-wrk-'));
  try {
    const script = join(scriptDir, 'iolab.lua');
    await writeFile(script, wrkScript(pipelining));
    const args = ['--latency', '-t', String(threads), '-c', String(options.connections)];
    args.push('--timeout', `${timeoutSec}s`, '-s', script);
    const timeoutMs = (options.durationSec + timeoutSec + 10) * 1000;
    if (options.warmupSec && options.warmupSec > 0) {
      await runWrkOnce(
        [...guard, ...pin, wrk, ...args, '-d', `${options.warmupSec}s`, options.url],
        fdsNeeded,
        options.signal,
        timeoutMs,
      );
    }
    const argv = [...pin, wrk, ...args, '-d', `${options.durationSec}s`, options.url];
    const exit = await runWrkOnce([...guard, ...argv], fdsNeeded, options.signal, timeoutMs);
    const parsed = parseWrkOutput(exit.output);
    return {
      tool: 'wrk',
      url: options.url,
      connections: options.connections,
      pipelining,
      ...parsed,
      loadgenCpu: wrkCpu(exit, threads, pin.length > 0),
      commandLine: formatCommandLine(argv),
    };
  } finally {
    await rm(scriptDir, { recursive: true, force: true });
  }
}

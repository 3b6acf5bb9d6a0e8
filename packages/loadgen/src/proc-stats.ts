/**
 * Resource use of a process, read from Linux procfs. Elsewhere (or once the process is gone) the readers
 * return `undefined` rather than guessing; the self-sampler falls back to Node's own counters everywhere.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One reading of a process's counters. CPU times are cumulative since the process started. */
export interface ProcSample {
  readonly pid: number;
  /** `performance.now()`-style monotonic milliseconds when the sample was taken. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly userCpuMs: number;
  readonly systemCpuMs: number;
  readonly threads: number;
  readonly voluntaryCtxSwitches: number;
  readonly nonvoluntaryCtxSwitches: number;
}

/** CPU and context switches between two samples of the same process. */
export interface ProcDelta {
  readonly wallMs: number;
  readonly userCpuMs: number;
  readonly systemCpuMs: number;
  /** (user + system) / wall × 100: 100 means one core fully busy; can exceed 100 with threads. */
  readonly cpuPercent: number;
  readonly voluntaryCtxSwitches: number;
  readonly nonvoluntaryCtxSwitches: number;
}

let clockTicks: number | undefined;
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. 100 on every mainstream Linux; asked once. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const parsed = Number.parseInt(
        execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }),
        10,
      );
      clockTicks = Number.isFinite(parsed) && parsed > 0 ? parsed : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function statusField(status: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Reads `/proc/<pid>/status` (RSS, threads, context switches) and `/proc/<pid>/stat` (utime, stime).
 * Returns `undefined` when procfs is not there or the process has exited.
 */
export function sampleProcess(pid: number): ProcSample | undefined {
  if (process.platform !== 'linux') return undefined;
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')', so split after the last ')'.
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // afterComm[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(afterComm[11]);
  const stime = Number(afterComm[12]);
  const state = afterComm[0];
  if (state === 'Z' || state === 'X') return undefined;
  const tick = 1000 / ticksPerSecond();
  const rssKb = statusField(status, 'VmRSS') ?? 0;
  return {
    pid,
    atMs: performance.now(),
    rssBytes: rssKb * 1024,
    userCpuMs: Number.isFinite(utime) ? utime * tick : 0,
    systemCpuMs: Number.isFinite(stime) ? stime * tick : 0,
    threads: statusField(status, 'Threads') ?? 0,
    voluntaryCtxSwitches: statusField(status, 'voluntary_ctxt_switches') ?? 0,
    nonvoluntaryCtxSwitches: statusField(status, 'nonvoluntary_ctxt_switches') ?? 0,
  };
}

/** The work a process did between two of its samples. */
export function diffSamples(before: ProcSample, after: ProcSample): ProcDelta {
  const wallMs = Math.max(after.atMs - before.atMs, 1e-3);
  const userCpuMs = after.userCpuMs - before.userCpuMs;
  const systemCpuMs = after.systemCpuMs - before.systemCpuMs;
  return {
    wallMs,
    userCpuMs,
    systemCpuMs,
    cpuPercent: ((userCpuMs + systemCpuMs) / wallMs) * 100,
    voluntaryCtxSwitches: after.voluntaryCtxSwitches - before.voluntaryCtxSwitches,
    nonvoluntaryCtxSwitches: after.nonvoluntaryCtxSwitches - before.nonvoluntaryCtxSwitches,
  };
}

/** The load generator's own CPU use over a run. */
export interface LoadgenCpu {
  readonly wallMs: number;
  readonly userCpuMs: number;
  readonly systemCpuMs: number;
  /** Average over the run; 100 = one core busy the whole time. */
  readonly cpuPercent: number;
  /** Busiest window of {@link SELF_SAMPLE_INTERVAL_MS}; a generator pegged for part of a run shows here. */
  readonly peakCpuPercent: number;
  /** Average ≥ {@link SATURATION_CPU_PERCENT}: the generator, not the server, may have set the pace. */
  readonly saturated: boolean;
}

/** A single-threaded JS generator at this share of one core has no headroom left to send faster. */
export const SATURATION_CPU_PERCENT = 90;
/** Window for the peak reading: long enough to smooth GC pauses, short enough to see bursts. */
export const SELF_SAMPLE_INTERVAL_MS = 500;

export interface SelfSampler {
  stop(): LoadgenCpu;
}

/**
 * Measures this process's CPU (all its threads, via `process.cpuUsage`) from now until `stop()`.
 * Used to tell a saturated generator from a saturated server.
 */
export function startSelfSampler(): SelfSampler {
  const start = process.cpuUsage();
  const startAt = performance.now();
  let lastUsage = start;
  let lastAt = startAt;
  let peak = 0;
  const tick = (): void => {
    const now = performance.now();
    const usage = process.cpuUsage();
    const wall = now - lastAt;
    if (wall > 0) {
      const pct = ((usage.user - lastUsage.user + usage.system - lastUsage.system) / 1000 / wall) * 100;
      if (pct > peak) peak = pct;
    }
    lastUsage = usage;
    lastAt = now;
  };
  const timer = setInterval(tick, SELF_SAMPLE_INTERVAL_MS);
  timer.unref();
  let stopped: LoadgenCpu | undefined;
  return {
    stop(): LoadgenCpu {
      if (stopped) return stopped;
      clearInterval(timer);
      const usage = process.cpuUsage(start);
      const wallMs = Math.max(performance.now() - startAt, 1e-3);
      const userCpuMs = usage.user / 1000;
      const systemCpuMs = usage.system / 1000;
      const cpuPercent = ((userCpuMs + systemCpuMs) / wallMs) * 100;
      stopped = {
        wallMs,
        userCpuMs,
        systemCpuMs,
        cpuPercent,
        peakCpuPercent: Math.max(peak, cpuPercent),
        saturated: cpuPercent >= SATURATION_CPU_PERCENT,
      };
      return stopped;
    },
  };
}

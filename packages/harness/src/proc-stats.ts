/**
 * Resource use of a process (and of its whole tree) between two moments: CPU, RSS, threads and context
 * switches from {@link readStat}/{@link readStatus}, plus this process's own CPU from Node's counters.
 */
import { descendantsOf, isDead, readStat, readStatus, ticksPerSecond } from './proc-reader.js';

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

/** One process's counters; `undefined` when procfs is not there or the process has exited. */
export function sampleProcess(pid: number): ProcSample | undefined {
  const stat = readStat(pid);
  const status = readStatus(pid);
  if (!stat || !status || isDead(stat)) return undefined;
  const tick = 1000 / ticksPerSecond();
  return {
    pid,
    atMs: performance.now(),
    rssBytes: status.rssBytes,
    userCpuMs: stat.utimeTicks * tick,
    systemCpuMs: stat.stimeTicks * tick,
    threads: status.threads,
    voluntaryCtxSwitches: status.voluntaryCtxSwitches,
    nonvoluntaryCtxSwitches: status.nonvoluntaryCtxSwitches,
  };
}

/**
 * One summed sample over `pid` and every descendant; undefined when `pid` itself is gone. A server's cost
 * includes its children (`loop --workers N` is a cluster primary plus N workers), so every model is charged
 * for everything it runs.
 */
export function sampleTree(pid: number): ProcSample | undefined {
  const root = sampleProcess(pid);
  if (!root) return undefined;
  let { rssBytes, userCpuMs, systemCpuMs, threads, voluntaryCtxSwitches, nonvoluntaryCtxSwitches } = root;
  for (const child of descendantsOf(pid).slice(1)) {
    const s = sampleProcess(child);
    if (!s) continue;
    rssBytes += s.rssBytes;
    userCpuMs += s.userCpuMs;
    systemCpuMs += s.systemCpuMs;
    threads += s.threads;
    voluntaryCtxSwitches += s.voluntaryCtxSwitches;
    nonvoluntaryCtxSwitches += s.nonvoluntaryCtxSwitches;
  }
  return {
    pid,
    atMs: performance.now(),
    rssBytes,
    userCpuMs,
    systemCpuMs,
    threads,
    voluntaryCtxSwitches,
    nonvoluntaryCtxSwitches,
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

/** A load generator's own CPU use over a run. */
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

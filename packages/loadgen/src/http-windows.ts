/**
 * HTTP load for one cell as ONE autocannon run cut into windows: an adaptive warm-up, then `repetitions`
 * back-to-back measured windows on the same connections. Separate autocannon runs would reconnect every
 * time, and a thread-per-connection server would spend each repetition starting threads instead of serving.
 *
 *   |— warm-up: ≥ warmupSec, until every connection has had an answer (or none new for 0.5 s) —|— rep 1 —|— rep 2 —|…
 *
 * Latency is recorded per window in an HDR histogram at microsecond resolution from autocannon's per-response
 * hrtime duration (autocannon's own histogram rounds to whole milliseconds). Runs inside the load worker.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SATURATION_CPU_PERCENT } from '@iolab/harness';
import autocannon from 'autocannon';
import { build, type Histogram } from 'hdr-histogram-js';

/** Warm-up ends once no connection got its first answer for this long (the rest are queued, not slow). */
const FIRST_ANSWER_QUIET_MS = 2_000;
/** Largest latency tracked, µs (a minute); longer ones are clamped. */
const MAX_TRACKED_US = 60_000_000;
/** How often the warm-up checks whether it may end. */
const WARMUP_POLL_MS = 50;

export interface HttpWindowsOptions {
  readonly url: string;
  readonly connections: number;
  readonly warmupSec: number;
  /** Upper bound on the adaptive warm-up. */
  readonly warmupCapSec: number;
  readonly durationSec: number;
  readonly repetitions: number;
  readonly timeoutSec: number;
  /** Called at each window's start and end (and once near its end) so the caller can sample the server. */
  readonly onWindow: (event: 'start' | 'mid' | 'end', index: number) => void;
}

export interface HttpWindow {
  readonly durationSec: number;
  readonly responses: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly loadgenCpuPercent: number;
  readonly loadgenSaturated: boolean;
}

export interface HttpWindowsResult {
  readonly windows: readonly HttpWindow[];
  readonly warmupSec: number;
  /** Connections that had at least one answer by the end of the warm-up. */
  readonly servedAfterWarmup: number;
  readonly commandLine: string;
}

interface Counters {
  responses: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  histogram: Histogram;
  startedAt: number;
  cpu: NodeJS.CpuUsage;
}

function fresh(): Counters {
  return {
    responses: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    histogram: build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: MAX_TRACKED_US,
      numberOfSignificantValueDigits: 3,
    }),
    startedAt: performance.now(),
    cpu: process.cpuUsage(),
  };
}

function close(c: Counters): HttpWindow {
  const wallMs = Math.max(performance.now() - c.startedAt, 1e-3);
  const cpu = process.cpuUsage(c.cpu);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  const at = (p: number): number | null =>
    c.histogram.totalCount === 0 ? null : c.histogram.getValueAtPercentile(p) / 1000;
  const window: HttpWindow = {
    durationSec: wallMs / 1000,
    responses: c.responses,
    ok: c.ok,
    non2xx: c.non2xx,
    errors: c.errors,
    timeouts: c.timeouts,
    p50Ms: at(50),
    p99Ms: at(99),
    p999Ms: at(99.9),
    loadgenCpuPercent: cpuPercent,
    loadgenSaturated: cpuPercent >= SATURATION_CPU_PERCENT,
  };
  c.histogram.destroy();
  return window;
}

export async function runHttpWindows(options: HttpWindowsOptions): Promise<HttpWindowsResult> {
  const totalSec = Math.ceil(options.warmupCapSec + options.repetitions * options.durationSec + 5);
  let current = fresh();
  const served = new Set<unknown>();
  let lastFirstAnswerAt = performance.now();
  let failure: Error | undefined;
  let stopInstance: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: totalSec,
        timeout: options.timeoutSec,
      },
      (error) => {
        if (error) failure = error instanceof Error ? error : new Error(String(error));
        resolve();
      },
    );
    instance.on('response', (client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      current.responses++;
      if (statusCode >= 200 && statusCode < 300) current.ok++;
      else current.non2xx++;
      current.histogram.recordValue(Math.min(MAX_TRACKED_US, Math.max(1, Math.round(responseTime * 1000))));
      if (!served.has(client)) {
        served.add(client);
        lastFirstAnswerAt = performance.now();
      }
    });
    instance.on('reqError', (error: Error) => {
      current.errors++;
      if (error?.message === 'request timed out') current.timeouts++;
    });
    stopInstance = () => instance.stop();
  });

  const warmStart = performance.now();
  const minEnd = warmStart + options.warmupSec * 1000;
  const capEnd = warmStart + options.warmupCapSec * 1000;
  for (;;) {
    const now = performance.now();
    if (failure || now >= capEnd) break;
    const allServed = served.size >= options.connections;
    const quiet = now - lastFirstAnswerAt >= FIRST_ANSWER_QUIET_MS && served.size > 0;
    if (now >= minEnd && (allServed || quiet)) break;
    await sleep(WARMUP_POLL_MS);
  }
  const warmupSec = (performance.now() - warmStart) / 1000;
  const servedAfterWarmup = served.size;
  current.histogram.destroy();

  const windows: HttpWindow[] = [];
  for (let i = 0; i < options.repetitions && !failure; i++) {
    current = fresh();
    options.onWindow('start', i);
    const mid = setTimeout(() => options.onWindow('mid', i), options.durationSec * 1000 * 0.85);
    await sleep(options.durationSec * 1000);
    clearTimeout(mid);
    windows.push(close(current));
    options.onWindow('end', i);
  }
  // Counting continues into a throwaway until autocannon has stopped.
  current = fresh();
  stopInstance();
  await done;
  current.histogram.destroy();
  if (failure) throw failure;
  return {
    windows,
    warmupSec,
    servedAfterWarmup,
    commandLine:
      `autocannon -c ${options.connections} -t ${options.timeoutSec} ${options.url}  # as a library, one run: adaptive warm-up ` +
      `(≥ ${options.warmupSec} s, ≤ ${options.warmupCapSec} s) then ${options.repetitions} × ${options.durationSec} s windows`,
  };
}

/**
 * What the parent asks the load worker to do, and what it gets back. The worker runs in its own process
 * (pinned to its own core) so the generator's CPU never competes with the orchestrator's or the server's,
 * and so it can be measured on its own.
 */
import type { FirstAnswersResult } from '@iolab/loadgen';

/**
 * `wrk` (C, multi-threaded, its own process) where installed: it is never the ceiling of a Node server on one
 * core. autocannon otherwise. Each wrk window is its own wrk run, so it reconnects: servers keep their threads
 * between windows (bio reuses idle threads, the pool keeps its workers), and thread start-up is measured on
 * its own by a `startup` job.
 */
export type HttpGenerator = 'wrk' | 'autocannon';

export interface HttpLoadJob {
  readonly kind: 'http';
  readonly url: string;
  readonly connections: number;
  readonly generator: HttpGenerator;
}

export interface FramedClosedLoadJob {
  readonly kind: 'framed';
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Echo payload bytes per request. */
  readonly payloadBytes: number;
}

export interface FramedOpenLoadJob {
  readonly kind: 'framed-open';
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  readonly payloadBytes: number;
  /** Offered requests per second, each step one repetition. */
  readonly rates: readonly number[];
  /** Stop stepping once p99 exceeds this (the rate is past sustainable). */
  readonly p99TargetMs: number;
}

/** Open N connections at once, one request each: the time until all N have had an answer (thread start-up). */
export interface StartupLoadJob {
  readonly kind: 'startup';
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  readonly request:
    | { readonly kind: 'http'; readonly path: string }
    | { readonly kind: 'echo-lp'; readonly payloadBytes: number };
  /** Past this the model "did not start N threads within capSec". */
  readonly capSec: number;
}

export type LoadJobSpec = HttpLoadJob | FramedClosedLoadJob | FramedOpenLoadJob | StartupLoadJob;

export interface LoadJob {
  readonly spec: LoadJobSpec;
  /** The server's pid, sampled by the worker right around each repetition. */
  readonly serverPid: number;
  readonly warmupSec: number;
  /** HTTP: the warm-up runs until every connection was answered once, but never longer than this. */
  readonly warmupCapSec: number;
  readonly durationSec: number;
  readonly repetitions: number;
}

/** The server's resources over one repetition, read from /proc by the worker. */
export interface ServerUse {
  readonly cpuPercent: number | null;
  /** RSS near the end of the measured run (connections still open). */
  readonly rssBytes: number | null;
  /** Threads near the end of the measured run. */
  readonly threads: number | null;
  readonly voluntaryCtxSwitches: number | null;
  readonly nonvoluntaryCtxSwitches: number | null;
  /** False when the server was gone by the end of the repetition. */
  readonly alive: boolean;
}

export interface RepetitionResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  /** Connection errors (resets, refused connects) plus timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  /** Answers that said no: HTTP 503 (and other non-2xx), or framed error responses. */
  readonly refusals: number;
  readonly loadgenCpuPercent: number | null;
  readonly loadgenSaturated: boolean;
  readonly server: ServerUse;
  /** Open loop only: the offered rate of this step. */
  readonly offeredRate?: number;
  /** Wall clock (ms since the epoch) when the window started: shows the interleaving order in results.json. */
  readonly startedAtMs?: number;
}

export interface LoadJobResult {
  readonly repetitions: readonly RepetitionResult[];
  readonly commandLine: string;
  /** The worker's own open-files limit after the shell raised it. */
  readonly noFileLimit: string | null;
  /** HTTP: how long the adaptive warm-up took, and how many connections had been answered by its end. */
  readonly warmupSec?: number;
  readonly servedAfterWarmup?: number;
  /** `startup` jobs only. */
  readonly startup?: StartupResult;
  readonly error?: string;
}

/** The start-up probe's answer, as loadgen's `measureFirstAnswers` gives it (it crosses the worker as JSON). */
export type StartupResult = FirstAnswersResult;

/** The stdout line that carries the result (the worker's only output on stdout). */
export const RESULT_LINE_PREFIX = 'IOLAB_LOAD_RESULT ';

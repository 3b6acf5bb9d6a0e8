/**
 * The two HTTP clients the comparison drives: autocannon (in a node child of its own, pinned like the
 * backends, so this process's bookkeeping never shares its core) and wrk (a C generator, run by loadgen).
 * Both report requests/s, p50/p99, errors and their own CPU, so a starved client can be told from a slow proxy.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { reapedChildrenCpuMs, spawnManaged } from '@iolab/harness';
import { type HttpLoadResult, runWrk } from '@iolab/loadgen';
import type { ClientName } from './results.js';

/** One client run against one target. */
export interface ClientResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connection errors (timeouts included) plus non-2xx answers. */
  readonly errors: number;
  /** The client's own CPU over the run, 100 = one core busy; null when it could not be measured. */
  readonly cpuPercent: number | null;
}

export interface Client {
  readonly name: ClientName;
  run(url: string, seconds: number, connections: number): Promise<ClientResult>;
}

export interface ClientContext {
  readonly signal: AbortSignal;
  /** Every distinct command line run, for the report. */
  readonly commands: string[];
  /** Core the client is pinned to; null = unpinned. */
  readonly clientCpu: number | null;
}

/** Stopping grace before SIGKILL for the autocannon child, which exits by itself right after its result. */
const STOP_GRACE_MS = 3_000;

/**
 * autocannon's process: loadgen's `runHttpLoad` is in-process, and the client must not share a process (or a
 * core) with the experiment's bookkeeping, so it runs in a node child. It prints its result as its one stdout
 * line, which doubles as spawnManaged's ready line.
 */
const AUTOCANNON_SCRIPT = `
const [loadgenUrl, optionsJson] = process.argv.slice(1);
const { runHttpLoad } = await import(loadgenUrl);
const result = await runHttpLoad(JSON.parse(optionsJson));
process.stdout.write('IOLAB_HTTP_LOAD_RESULT ' + JSON.stringify(result) + '\\n', () => process.exit(0));
`;
const AUTOCANNON_RESULT = /^IOLAB_HTTP_LOAD_RESULT (.*)$/;
/** Time on top of a client run for a node start and the autocannon import on a busy shared machine. */
const CLIENT_SLACK_MS = 30_000;
/** wrk's own default socket timeout, kept so figures stay comparable with earlier runs. */
const WRK_TIMEOUT_SEC = 2;

export function recordCommand(commands: string[], command: string): void {
  if (!commands.includes(command)) commands.push(command);
}

function fromLoad(result: HttpLoadResult, cpuPercent: number | null): ClientResult {
  return {
    requestsPerSecond: result.requestsPerSec,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    errors: result.errors + result.non2xx,
    cpuPercent,
  };
}

export function autocannonClient(ctx: ClientContext): Client {
  const loadgenUrl = pathToFileURL(createRequire(import.meta.url).resolve('@iolab/loadgen')).href;
  return {
    name: 'autocannon',
    async run(url, seconds, connections) {
      const proc = await spawnManaged({
        command: process.execPath,
        args: [
          '--input-type=module',
          '-e',
          AUTOCANNON_SCRIPT,
          loadgenUrl,
          JSON.stringify({ url, connections, durationSec: seconds }),
        ],
        ...(ctx.clientCpu === null ? {} : { cpu: ctx.clientCpu }),
        readyPattern: AUTOCANNON_RESULT,
        readyTimeoutMs: seconds * 1000 + CLIENT_SLACK_MS,
        signal: ctx.signal,
      });
      // The result is in hand; the child exits by itself right after it, this ends it if it has not.
      await proc.stop('SIGTERM', STOP_GRACE_MS);
      const result = JSON.parse(proc.readyMatch[1] ?? '') as HttpLoadResult;
      // `proc.pinned` reads the affinity at ready time, when this child may already be gone.
      const pin = proc.cpu === undefined ? '' : `, taskset -c ${proc.cpu}`;
      recordCommand(
        ctx.commands,
        `${result.commandLine.split('  #')[0]}  # loadgen runHttpLoad in its own node process${pin}`,
      );
      return fromLoad(result, result.loadgenCpu?.cpuPercent ?? null);
    },
  };
}

export function wrkClient(ctx: ClientContext): Client {
  return {
    name: 'wrk',
    async run(url, seconds, connections) {
      const started = performance.now();
      // wrk is a child that runs to its end: the growth of this process's reaped-children CPU is wrk's own,
      // as nothing else started here exits during a run.
      const cpuBefore = reapedChildrenCpuMs();
      const result = await runWrk({
        url,
        connections,
        durationSec: seconds,
        threads: 1,
        timeoutSec: WRK_TIMEOUT_SEC,
        ...(ctx.clientCpu === null ? {} : { cpu: ctx.clientCpu }),
        signal: ctx.signal,
      });
      const cpuAfter = reapedChildrenCpuMs();
      const wallMs = performance.now() - started;
      recordCommand(ctx.commands, result.commandLine);
      const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      return fromLoad(result, cpuMs === null ? null : (cpuMs / wallMs) * 100);
    },
  };
}

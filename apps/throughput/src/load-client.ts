/**
 * The load generator's process, kept for a whole experiment: started once (pinned to its own core, with a
 * raised open-files limit), then handed one cell at a time over a loopback control connection.
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, spawnManaged } from '@iolab/harness';
import { FRAMED_CONNECT_BATCH, FRAMED_CONNECT_TIMEOUT_MS } from './framed-load.js';
import { type LoadJob, type LoadJobResult, RESULT_LINE_PREFIX } from './load-job.js';
import { withRaisedNoFile } from './raised-limits.js';

/** The worker is compiled JS; this path resolves to dist/ from both src/ (tests) and dist/ (built). */
const WORKER = new URL('../dist/load-worker.js', import.meta.url);

/** Time on top of a job's planned run for connection set-up (10,000 sockets) and a slow shared machine. */
const JOB_SLACK_MS = 30_000;
/** A result is a few KiB; a longer line means the stream is not what we expect. */
const MAX_RESULT_LINE_BYTES = 4 * 1024 * 1024;

export interface LoadRun {
  readonly result: LoadJobResult;
  /** The worker's command line (taskset/setpriv/sh prefixes included). */
  readonly workerCommandLine: string;
  readonly pinned: boolean;
  readonly cpu: number | undefined;
}

function plannedMs(job: LoadJob): number {
  if (job.spec.kind === 'startup') return job.spec.capSec * 1000;
  const steps = job.spec.kind === 'framed-open' ? job.spec.rates.length : job.repetitions;
  if (job.spec.kind === 'http') return (job.warmupCapSec + steps * (job.durationSec + 1)) * 1000;
  // Framed: every step reconnects; against a refusing server each batch of connects may wait out its timeout.
  const connectMs = Math.ceil(job.spec.connections / FRAMED_CONNECT_BATCH) * FRAMED_CONNECT_TIMEOUT_MS;
  return steps * ((job.warmupSec + job.durationSec + 1) * 1000 + connectMs);
}

export class LoadWorker {
  readonly #cpu: number | undefined;
  readonly #signal: AbortSignal;
  #process: ManagedProcess | undefined;
  #socket: Socket | undefined;
  #pending = '';
  #waiter: ((line: string | Error) => void) | undefined;

  constructor(cpu: number | undefined, signal: AbortSignal) {
    this.#cpu = cpu;
    this.#signal = signal;
  }

  async #ensure(): Promise<{ process: ManagedProcess; socket: Socket }> {
    if (this.#process && this.#socket && !this.#socket.destroyed)
      return { process: this.#process, socket: this.#socket };
    await this.stop();
    const { command, args } = withRaisedNoFile([process.execPath, fileURLToPath(WORKER)]);
    const child = await spawnManaged({ command, args, cpu: this.#cpu, signal: this.#signal });
    this.#process = child;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(child.port, child.host || '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#pending += chunk;
      if (this.#pending.length > MAX_RESULT_LINE_BYTES)
        socket.destroy(new Error('load worker sent an oversized line'));
      const newline = this.#pending.indexOf('\n');
      if (newline >= 0) {
        const line = this.#pending.slice(0, newline);
        this.#pending = this.#pending.slice(newline + 1);
        this.#waiter?.(line);
      }
    });
    socket.on('error', (error) => this.#waiter?.(error));
    socket.on('close', () =>
      this.#waiter?.(new Error(`load worker exited: ${child.stderrTail().slice(-400)}`)),
    );
    this.#socket = socket;
    return { process: child, socket };
  }

  /** Runs one job; on a timeout or a dead worker the worker is replaced for the next job. */
  async run(job: LoadJob): Promise<LoadRun> {
    const { process: child, socket } = await this.#ensure();
    const timeoutMs = plannedMs(job) + JOB_SLACK_MS;
    const line = await new Promise<string | Error>((resolve) => {
      const timer = setTimeout(
        () => resolve(new Error(`load worker gave no result within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = (): void => resolve(new Error('aborted'));
      this.#signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (value) => {
        clearTimeout(timer);
        this.#signal.removeEventListener('abort', onAbort);
        this.#waiter = undefined;
        resolve(value);
      };
      socket.write(`${JSON.stringify(job)}\n`);
    });
    if (line instanceof Error) {
      await this.stop();
      throw line;
    }
    if (!line.startsWith(RESULT_LINE_PREFIX)) {
      await this.stop();
      throw new Error(`load worker sent an unexpected line: ${line.slice(0, 200)}`);
    }
    return {
      result: JSON.parse(line.slice(RESULT_LINE_PREFIX.length)) as LoadJobResult,
      workerCommandLine: child.commandLine,
      pinned: child.pinned,
      cpu: child.cpu,
    };
  }

  async stop(): Promise<void> {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#pending = '';
    const child = this.#process;
    this.#process = undefined;
    await child?.stop('SIGKILL', 1_000);
  }
}

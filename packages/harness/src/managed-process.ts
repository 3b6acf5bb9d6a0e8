/**
 * Starts a server (or any helper process) as a child that is always stopped: by `stop()`, by an AbortSignal,
 * or by the registry when this process exits or gets SIGINT/SIGTERM. Optionally pinned to a CPU with
 * `taskset` so the server and the load generator do not fight over one core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { trackChild } from './child-registry.js';
import { findExecutable, formatCommandLine } from './command-line.js';
import { isPinnedTo, pinPrefix } from './cpu-pinning.js';
import {
  ChildExitedError,
  HarnessError,
  HarnessOptionError,
  ProcessAbortedError,
  ReadyTimeoutError,
} from './errors.js';
import { type ProcSample, sampleProcess } from './proc-stats.js';

/** Bytes of stderr kept for error messages: enough for a stack trace, bounded for a chatty child. */
export const DEFAULT_STDERR_CAP_BYTES = 16 * 1024;
/** Bytes of stdout kept after the ready line: the rest is drained so the child never blocks on a full pipe. */
export const DEFAULT_STDOUT_CAP_BYTES = 16 * 1024;
/** A line longer than this cannot be a ready line; it is dropped so a binary stdout cannot grow memory. */
const MAX_READY_LINE_BYTES = 64 * 1024;
/** `iolab serve` starts in well under a second; a slow shared machine gets ten times that and more. */
export const DEFAULT_READY_TIMEOUT_MS = 15_000;
/** Time `stop()` gives a draining server before SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 5_000;
/** What `iolab serve` and `iolab balance` print once they accept connections. */
export const DEFAULT_READY_PATTERN = /listening on (\S+):(\d+)/;

export interface SpawnManagedOptions {
  /** Executable, e.g. `process.execPath`. */
  readonly command: string;
  readonly args?: readonly string[];
  /** Added to (not replacing) this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Pin the child to this CPU with `taskset -c` when taskset exists and the CPU does. */
  readonly cpu?: number;
  /** Matched against each stdout line; groups 1 and 2, when present, are the host and port. */
  readonly readyPattern?: RegExp;
  readonly readyTimeoutMs?: number;
  /** Aborting stops the child (SIGTERM, then SIGKILL after a short grace) and rejects a pending spawn. */
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  /** Cap on the stderr tail kept for error messages. */
  readonly stderrCapBytes?: number;
}

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly pid: number;
  /** From the ready line's first group ('' when the pattern has none). */
  readonly host: string;
  /** From the ready line's second group (0 when the pattern has none). */
  readonly port: number;
  /** The ready line's match, for patterns that carry more than host and port. */
  readonly readyMatch: RegExpExecArray;
  /** What was run, including any taskset/setpriv prefix, shell-quoted for the report. */
  readonly commandLine: string;
  /** True when the kernel confirms the child's affinity is exactly the requested CPU. */
  readonly pinned: boolean;
  readonly cpu: number | undefined;
  /** Resolves once the child has exited (for any reason). */
  readonly exited: Promise<ExitResult>;
  /** Sends `signal`, waits up to `graceMs` for exit, then SIGKILLs. Safe to call more than once. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitResult>;
  /** RSS, CPU, threads and context switches from procfs; `undefined` once exited or off Linux. */
  sample(): ProcSample | undefined;
  /** The last bytes of stderr (bounded by `stderrCapBytes`). */
  stderrTail(): string;
  /** The last bytes of stdout after the ready line (bounded). */
  stdoutTail(): string;
}

/** Keeps the last `cap` bytes written to it. */
class TailBuffer {
  readonly #cap: number;
  #chunks: Buffer[] = [];
  #size = 0;
  constructor(cap: number) {
    this.#cap = cap;
  }
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.#cap && this.#chunks.length > 0) {
      const head = this.#chunks[0] as Buffer;
      const excess = this.#size - this.#cap;
      if (head.length <= excess) {
        this.#chunks.shift();
        this.#size -= head.length;
      } else {
        this.#chunks[0] = head.subarray(excess);
        this.#size -= excess;
      }
    }
  }
  toString(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * Spawns `command args`, waits for its ready line on stdout, and returns a handle whose `stop()` always
 * ends it. The child is prefixed with `taskset -c <cpu>` (when `cpu` is given and taskset exists) and
 * `setpriv --pdeathsig KILL` (when setpriv exists) so it dies even if this process is SIGKILLed.
 *
 * @throws {ReadyTimeoutError} no ready line in time (the child is killed)
 * @throws {ChildExitedError} the child exited first (stderr tail in the message)
 * @throws {ProcessAbortedError} `signal` fired first (the child is killed)
 */
export async function spawnManaged(options: SpawnManagedOptions): Promise<ManagedProcess> {
  const readyPattern = options.readyPattern ?? DEFAULT_READY_PATTERN;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const stderrCap = options.stderrCapBytes ?? DEFAULT_STDERR_CAP_BYTES;
  if (options.signal?.aborted) throw new ProcessAbortedError(options.command);
  if (options.cpu !== undefined && (!Number.isInteger(options.cpu) || options.cpu < 0)) {
    throw new HarnessOptionError('cpu', `must be a non-negative integer, got ${options.cpu}`);
  }

  const argv: string[] = pinPrefix(options.cpu);
  const wantPin = argv.length > 0;
  const setpriv = process.platform === 'linux' ? findExecutable('setpriv') : undefined;
  if (setpriv) argv.push(setpriv, '--pdeathsig', 'KILL', '--');
  argv.push(options.command, ...(options.args ?? []));
  const commandLine = formatCommandLine(argv);

  let child: ChildProcess;
  try {
    child = spawn(argv[0] as string, argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (cause) {
    throw new HarnessError('IOLAB_HARNESS_SPAWN_FAILED', `${commandLine}: ${String(cause)}`, { cause });
  }
  trackChild(child);

  const stderr = new TailBuffer(stderrCap);
  const stdout = new TailBuffer(DEFAULT_STDOUT_CAP_BYTES);
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  let exitResult: ExitResult | undefined;
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('exit', (code, signal) => {
      exitResult = { code, signal };
      resolve(exitResult);
    });
    // A spawn failure (ENOENT) emits 'error' and maybe no 'exit'.
    child.once('error', () => {
      if (!exitResult) {
        exitResult = { code: null, signal: null };
        resolve(exitResult);
      }
    });
  });

  let stopping: Promise<ExitResult> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', graceMs = DEFAULT_STOP_GRACE_MS): Promise<ExitResult> => {
    if (exitResult) return Promise.resolve(exitResult);
    if (stopping) return stopping;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    stopping = exited.finally(() => clearTimeout(timer));
    return stopping;
  };

  const readyMatch = await new Promise<RegExpExecArray>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const finish = (error: Error | undefined, match?: RegExpExecArray): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
      if (error) {
        void stop('SIGKILL');
        reject(error);
      } else resolve(match as RegExpExecArray);
    };
    const onLine = (line: string): void => {
      const match = readyPattern.exec(line);
      if (match) finish(undefined, match);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled) {
        stdout.push(chunk);
        return;
      }
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0 && !settled) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      if (settled) {
        if (pending) stdout.push(Buffer.from(pending));
        pending = '';
      } else if (pending.length > MAX_READY_LINE_BYTES) pending = '';
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      // Give stdout a chance to deliver a final ready line that raced the exit.
      setImmediate(() => finish(new ChildExitedError(commandLine, code, signal, stderr.toString().trim())));
    };
    const onError = (cause: Error): void => {
      finish(new HarnessError('IOLAB_HARNESS_SPAWN_FAILED', `${commandLine}: ${cause.message}`, { cause }));
    };
    const onAbort = (): void => finish(new ProcessAbortedError(commandLine));
    const timer = setTimeout(
      () => finish(new ReadyTimeoutError(commandLine, readyTimeoutMs, stderr.toString().trim())),
      readyTimeoutMs,
    );
    child.once('exit', onExit);
    child.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });

  const pid = child.pid as number;
  if (options.signal) {
    const signal = options.signal;
    const onAbort = (): void => void stop('SIGTERM', 2_000);
    signal.addEventListener('abort', onAbort, { once: true });
    void exited.then(() => signal.removeEventListener('abort', onAbort));
  }
  const port = readyMatch[2] === undefined ? 0 : Number(readyMatch[2]);
  return {
    pid,
    host: readyMatch[1] ?? '',
    port: Number.isFinite(port) ? port : 0,
    readyMatch,
    commandLine,
    pinned: wantPin && options.cpu !== undefined && isPinnedTo(pid, options.cpu),
    cpu: wantPin ? options.cpu : undefined,
    exited,
    stop,
    sample: () => (exitResult ? undefined : sampleProcess(pid)),
    stderrTail: () => stderr.toString(),
    stdoutTail: () => stdout.toString(),
  };
}

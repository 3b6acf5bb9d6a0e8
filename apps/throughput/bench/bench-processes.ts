/**
 * What the model benchmarks in this folder share: start a server process and read its port, run wrk,
 * and stop every process they started — on success, on error and on Ctrl-C.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median as harnessMedian } from '@iolab/harness';

const run = promisify(execFile);

export const IOLAB_BIN = fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url));

const children = new Set<ChildProcess>();
const stopAll = (): void => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
};
process.once('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}

export interface Started {
  readonly port: number;
  readonly child: ChildProcess;
  /** ms from spawn to its "listening on" line. */
  readonly readyMs: number;
  stop(): void;
}

/** `taskset -c CPU` in front of a command where taskset exists and the machine has that core. */
export async function pinned(cpu: number | undefined, command: string[]): Promise<string[]> {
  if (cpu === undefined) return command;
  try {
    await run('taskset', ['-c', String(cpu), 'true']);
    return ['taskset', '-c', String(cpu), ...command];
  } catch {
    return command;
  }
}

/** Spawns `command` and resolves with the port from its first stdout line, "listening on HOST:PORT". */
export async function startServer(command: string[], what: string, timeoutMs = 60_000): Promise<Started> {
  const began = performance.now();
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (log.length < 4096) log += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: no "listening on" in ${timeoutMs} ms`)),
      timeoutMs,
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on [^\n]*:(\d+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${log}`));
    });
  });
  const readyMs = performance.now() - began;
  return {
    port,
    child,
    readyMs,
    stop: () => {
      child.kill('SIGKILL');
      children.delete(child);
    },
  };
}

export interface WrkResult {
  readonly requestsPerSec: number;
  /** connect + read + write + timeout socket errors, and non-2xx/3xx responses. */
  readonly errors: number;
}

/** One wrk run; `cpu` pins it to a core so it does not share one with the server. */
export async function wrk(
  url: string,
  options: { connections: number; durationS: number; cpu?: number; timeoutS?: number },
): Promise<WrkResult> {
  const command = await pinned(options.cpu, [
    'wrk',
    '-t1',
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    `--timeout`,
    `${options.timeoutS ?? 10}s`,
    url,
  ]);
  const { stdout } = await run(command[0]!, command.slice(1), { timeout: (options.durationS + 60) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${stdout}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const errors =
    (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) +
    (non2xx ? Number(non2xx[1]) : 0);
  return { requestsPerSec: Number(rps[1]), errors };
}

/** The harness's one median; NaN (never null) so a missing figure stays visible in a printed ratio. */
export function median(values: readonly number[]): number {
  return harnessMedian(values) ?? Number.NaN;
}

export function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

/**
 * Test helper: one `iolab serve` child process (from dist/, so run `npm run build` first) under a chosen
 * Node binary, its port, and its newest stats line. Every process started here is SIGKILLed by
 * `stopAll()` (call it in afterEach/afterAll) and, as a last line of defence, when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/iolab.js', import.meta.url));

export interface ServeStats {
  readonly connections: number;
  readonly threadsAlive: number;
  readonly requests: number;
  readonly errors: number;
  readonly rejected: number;
  readonly refused: number;
  readonly headerTimeouts: number;
  readonly idleTimeouts: number;
  readonly socketMode?: 'relay' | 'owned';
}

export interface ServeProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** The newest stats line (printed every 100 ms). */
  stats(): ServeStats | undefined;
  /** stderr lines that were not stats. */
  log(): string;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function serve(args: readonly string[], node = process.execPath): Promise<ServeProcess> {
  const child = spawn(
    node,
    [BIN, 'serve', ...args, '--host', '127.0.0.1', '--port', '0', '--stats-interval', '100'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let latest: ServeStats | undefined;
  let partial = '';
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{')) latest = JSON.parse(line) as ServeStats;
      else log += `${line}\n`;
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no 'listening on' from iolab serve ${args.join(' ')}`)),
      30_000,
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`iolab serve ${args.join(' ')} exited with ${code}: ${log}${partial}`));
    });
  });
  return { port, child, stats: () => latest, log: () => log };
}

export function stopAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (then throws, naming `what`). */
export async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts `iolab serve <model>` as its own process — never in the experiment's process, so the server's
 * CPU, RSS and threads are its own — pinned to a core when the model runs on one, with `ulimit -n` raised.
 */
import { readFileSync } from 'node:fs';
import { type ManagedProcess, spawnManaged } from '@iolab/harness';
import type { ModelSpec } from './models.js';
import { noFileLimitOf, withRaisedNoFile } from './raised-limits.js';

export type ServeProtocol = 'http' | 'echo-lp';

export interface RunningServer {
  readonly process: ManagedProcess;
  readonly host: string;
  readonly port: number;
  /** Readable command line (without the sh wrapper) for the report. */
  readonly commandLine: string;
  /** The server's soft open-files limit after the wrapper raised it. */
  readonly noFileLimit: string | null;
}

/** In-flight work at the end of a cell is not what we measure: drain briefly, then close. */
const DRAIN_TIMEOUT_MS = 1_000;

/** The server's own counters, from the JSON stats line `iolab serve --stats-interval` prints at exit. */
export interface ServerStats {
  readonly requests?: number;
  readonly errors?: number;
  readonly refused?: number;
  readonly peakConnections?: number;
  readonly threadsPeak?: number;
  readonly rssBytes?: number;
}

/** The last JSON object line of the server's stderr, if any. */
export function lastStats(stderr: string): ServerStats | undefined {
  const lines = stderr.split('\n').reverse();
  for (const line of lines) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const parsed = JSON.parse(line.slice(start)) as Record<string, unknown>;
      const pick = (key: string): number | undefined =>
        typeof parsed[key] === 'number' ? (parsed[key] as number) : undefined;
      const stats: Record<string, number> = {};
      for (const key of ['requests', 'errors', 'refused', 'peakConnections', 'threadsPeak', 'rssBytes']) {
        const value = pick(key);
        if (value !== undefined) stats[key] = value;
      }
      if (Object.keys(stats).length > 0) return stats as ServerStats;
    } catch {
      // Not a stats line.
    }
  }
  return undefined;
}

/** A cluster of workers prints its line once the primary listens; cluster workers need longer on a busy box. */
const SERVER_READY_TIMEOUT_MS = 30_000;

export async function startServer(
  cliPath: string,
  model: ModelSpec,
  protocol: ServeProtocol,
  cpu: number | undefined,
  signal: AbortSignal,
): Promise<RunningServer> {
  const argv = [
    process.execPath,
    cliPath,
    'serve',
    model.model,
    ...model.serveArgs,
    '--protocol',
    protocol,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--drain-timeout',
    String(DRAIN_TIMEOUT_MS),
    // One stats line at exit (the interval is longer than any cell): the server's own count of refusals.
    '--stats-interval',
    '600000',
  ];
  const { command, args } = withRaisedNoFile(argv);
  const child = await spawnManaged({ command, args, cpu, signal, readyTimeoutMs: SERVER_READY_TIMEOUT_MS });
  return {
    process: child,
    host: child.host || '127.0.0.1',
    port: child.port,
    commandLine: child.commandLine,
    noFileLimit: noFileLimitOf(child.pid, (path) => readFileSync(path, 'utf8')),
  };
}

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
  /** bio and the connection-mode pool: `owned` or `relay`, as the server resolved `--socket`. */
  readonly socketMode?: string;
  /** bio: threads started vs connections handed to an idle thread. */
  readonly threadsStarted?: number;
  readonly threadsReused?: number;
}

const NUMERIC_STATS = [
  'requests',
  'errors',
  'refused',
  'peakConnections',
  'threadsPeak',
  'rssBytes',
  'threadsStarted',
  'threadsReused',
] as const;

/** The last JSON object line of the server's stderr, if any. */
export function lastStats(stderr: string): ServerStats | undefined {
  const lines = stderr.split('\n').reverse();
  for (const line of lines) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const parsed = JSON.parse(line.slice(start)) as Record<string, unknown>;
      const stats: Record<string, number | string> = {};
      for (const key of NUMERIC_STATS) {
        if (typeof parsed[key] === 'number') stats[key] = parsed[key] as number;
      }
      if (typeof parsed.socketMode === 'string') stats.socketMode = parsed.socketMode;
      if (Object.keys(stats).length > 0) return stats as ServerStats;
    } catch {
      // Not a stats line.
    }
  }
  return undefined;
}

/** A cluster of workers prints its line once the primary listens; cluster workers need longer on a busy box. */
const SERVER_READY_TIMEOUT_MS = 30_000;

/** The Node every server process of a run is started with (one for all, so models compare on one runtime). */
export interface ServerNode {
  readonly path: string;
  readonly version: string;
  /** Whether its worker threads accept a transferred socket (owned mode possible). */
  readonly socketTransfer: boolean;
}

export async function startServer(
  node: ServerNode,
  cliPath: string,
  model: ModelSpec,
  protocol: ServeProtocol,
  cpu: number | undefined,
  signal: AbortSignal,
): Promise<RunningServer> {
  const argv = [
    node.path,
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

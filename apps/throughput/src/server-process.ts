/**
 * Starts `iolab serve <model>` as its own process — never in the experiment's process, so the server's
 * CPU, RSS and threads are its own — pinned to a core when the model runs on one, with `ulimit -n` raised.
 */
import { readFileSync } from 'node:fs';
import { type ManagedProcess, spawnManaged } from '@iolab/loadgen';
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

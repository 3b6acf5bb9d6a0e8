/**
 * The peers a scenario runs against: the in-process reference echo, each `iolab serve` model, and the
 * `iolab balance` L4 balancer in front of the loop model. All servers are child processes started with
 * `spawnManaged`, so they are stopped on success, failure, abort and Ctrl-C alike.
 */
import { type ManagedProcess, spawnManaged } from '@iolab/harness';
import type { WireProtocol } from './message-format.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';

export type TargetId = 'reference' | 'bio' | 'pool' | 'loop' | 'balancer';
export const TARGETS: readonly TargetId[] = ['reference', 'bio', 'pool', 'loop', 'balancer'];

export const TARGET_LABELS: Readonly<Record<TargetId, string>> = {
  reference: 'reference (raw echo, worker thread)',
  bio: 'bio (thread per connection)',
  pool: 'pool (worker pool)',
  loop: 'loop (event loop)',
  balancer: 'balancer → loop',
};

export interface RunningTarget {
  readonly id: TargetId;
  readonly host: string;
  readonly port: number;
  /** Echoes bytes verbatim (reference) rather than answering the protocol. */
  readonly rawEcho: boolean;
  /** Present for the reference server: it can report its own reads. */
  readonly reference: ReferenceServer | undefined;
  readonly commands: readonly string[];
  stop(): Promise<void>;
}

/** Servers print their ready line well within this on an idle machine; a loaded 2-core box gets slack. */
const READY_TIMEOUT_MS = 20_000;

function serve(cliPath: string, model: 'bio' | 'pool' | 'loop', protocol: WireProtocol, signal: AbortSignal) {
  return spawnManaged({
    command: process.execPath,
    args: [cliPath, 'serve', model, '--protocol', protocol, '--host', '127.0.0.1', '--port', '0'],
    readyTimeoutMs: READY_TIMEOUT_MS,
    signal,
  });
}

export async function startTarget(
  id: TargetId,
  protocol: WireProtocol,
  cliPath: string,
  signal: AbortSignal,
): Promise<RunningTarget> {
  if (id === 'reference') {
    const reference = await startReferenceServer();
    return {
      id,
      host: reference.host,
      port: reference.port,
      rawEcho: true,
      reference,
      commands: ['(in-process) raw echo server in a worker thread, recording its reads'],
      stop: () => reference.close(),
    };
  }
  if (id !== 'balancer') {
    const server = await serve(cliPath, id, protocol, signal);
    return {
      id,
      host: server.host,
      port: server.port,
      rawEcho: false,
      reference: undefined,
      commands: [server.commandLine],
      stop: async () => {
        await server.stop();
      },
    };
  }
  const backend = await serve(cliPath, 'loop', protocol, signal);
  let balancer: ManagedProcess;
  try {
    balancer = await spawnManaged({
      command: process.execPath,
      args: [
        cliPath,
        'balance',
        '--listen',
        '127.0.0.1:0',
        '--backend',
        `${backend.host}:${backend.port}`,
        '--no-health',
      ],
      readyTimeoutMs: READY_TIMEOUT_MS,
      signal,
    });
  } catch (error) {
    await backend.stop();
    throw error;
  }
  return {
    id,
    host: balancer.host,
    port: balancer.port,
    rawEcho: false,
    reference: undefined,
    commands: [backend.commandLine, balancer.commandLine],
    stop: async () => {
      await balancer.stop();
      await backend.stop();
    },
  };
}

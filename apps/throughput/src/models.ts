/**
 * The server models under test, as `iolab serve` arguments, with the settings that decide where each one
 * stops accepting (so the report can say why a cell was skipped or refused).
 */
import { availableParallelism } from 'node:os';

export type ModelId =
  | 'bio'
  | 'pool-connection'
  | 'pool-request'
  | 'loop'
  | 'loop-workers'
  | 'node-http'
  | 'bio-relay'
  | 'bio-owned'
  | 'pool-connection-relay'
  | 'pool-connection-owned';

/**
 * bio's thread cap. Each thread is a Node worker (its own V8 isolate, several MiB of RSS and tens of ms to
 * start), so beyond a few hundred the machine, not the model, is what gets measured; 1,000 connections
 * against this cap show the refusal path instead.
 */
export const BIO_MAX_THREADS = 256;
/** Pool threads: a few per core, the usual ExecutorService sizing for blocking work. */
export const POOL_THREADS = Math.max(4, availableParallelism() * 2);
/** Pool queue: connections (connection mode) or requests (request mode) allowed to wait for a thread. */
export const POOL_QUEUE = 256;

export interface ModelSpec {
  readonly id: ModelId;
  readonly label: string;
  /** `iolab serve` arguments after the model name and before `--protocol`. */
  readonly serveArgs: readonly string[];
  readonly model: 'bio' | 'pool' | 'loop' | 'node-http';
  /**
   * Largest connection count worth offering; above it the model refuses by design (a thread cap), and the
   * cell is skipped with `capReason` rather than spending the budget on a wall of refusals.
   */
  readonly maxUsefulConnections: number;
  readonly capReason?: string;
  /** Whether the server runs on one core (pinned) or needs them all (one worker per core). */
  readonly needsAllCores: boolean;
  /** Whether the model serves the framed echo protocol (node-http speaks HTTP only). */
  readonly servesFramed: boolean;
  /**
   * Connections the model serves at once by design (the connection-mode pool: one per thread; the rest wait
   * in its queue until a connection closes). The start-up probe opens at most this many, since the others
   * are not starting: they are queued, which the windows then show.
   */
  readonly servesAtOnce?: number;
  /** The socket mode asked for (`--socket`); unset: the server's default, `auto`. */
  readonly socket?: 'relay' | 'owned';
}

export function modelSpecs(): readonly ModelSpec[] {
  const cores = availableParallelism();
  return [
    {
      id: 'bio',
      label: 'bio (thread per connection)',
      model: 'bio',
      serveArgs: ['--max-threads', String(BIO_MAX_THREADS)],
      maxUsefulConnections: 1_000,
      capReason: `--max-threads ${BIO_MAX_THREADS}: beyond it every connection is refused by design; 1,000 already shows it`,
      needsAllCores: false,
      servesFramed: true,
    },
    {
      id: 'pool-connection',
      label: `pool, connection mode (${POOL_THREADS} threads)`,
      model: 'pool',
      serveArgs: ['--mode', 'connection', '--threads', String(POOL_THREADS), '--queue', String(POOL_QUEUE)],
      maxUsefulConnections: 1_000,
      capReason: `${POOL_THREADS} threads + ${POOL_QUEUE} queued connections: the rest are refused by design; 1,000 already shows it`,
      servesAtOnce: POOL_THREADS,
      needsAllCores: false,
      servesFramed: true,
    },
    {
      id: 'pool-request',
      label: `pool, request mode (${POOL_THREADS} threads)`,
      model: 'pool',
      serveArgs: ['--mode', 'request', '--threads', String(POOL_THREADS), '--queue', String(POOL_QUEUE)],
      maxUsefulConnections: 10_000,
      needsAllCores: false,
      servesFramed: true,
    },
    {
      id: 'loop',
      label: 'loop (one event loop)',
      model: 'loop',
      serveArgs: [],
      maxUsefulConnections: 10_000,
      needsAllCores: false,
      servesFramed: true,
    },
    {
      id: 'loop-workers',
      label: `loop × ${cores} workers (cluster)`,
      model: 'loop',
      serveArgs: ['--workers', String(cores)],
      maxUsefulConnections: 10_000,
      needsAllCores: true,
      servesFramed: true,
    },
    {
      id: 'node-http',
      label: 'node:http (reference)',
      model: 'node-http',
      serveArgs: [],
      maxUsefulConnections: 10_000,
      needsAllCores: false,
      servesFramed: false,
    },
  ];
}

/**
 * The relay-vs-owned family: bio and the connection-mode pool with `--socket relay` and `--socket owned`, on
 * the same Node (one that can transfer sockets), so the only difference is whether bytes cross the main thread.
 */
export function socketModeSpecs(): readonly ModelSpec[] {
  const base = modelSpecs();
  const bio = base.find((m) => m.id === 'bio') as ModelSpec;
  const pool = base.find((m) => m.id === 'pool-connection') as ModelSpec;
  const variant = (of: ModelSpec, id: ModelId, socket: 'relay' | 'owned', label: string): ModelSpec => ({
    ...of,
    id,
    label,
    socket,
    serveArgs: [...of.serveArgs, '--socket', socket],
  });
  return [
    variant(bio, 'bio-relay', 'relay', 'bio, relayed socket'),
    variant(bio, 'bio-owned', 'owned', 'bio, owned socket'),
    variant(
      pool,
      'pool-connection-relay',
      'relay',
      `pool connection mode (${POOL_THREADS} threads), relayed`,
    ),
    variant(pool, 'pool-connection-owned', 'owned', `pool connection mode (${POOL_THREADS} threads), owned`),
  ];
}

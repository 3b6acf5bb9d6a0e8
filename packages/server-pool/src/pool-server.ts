/**
 * The same blocking handler on a fixed piscina pool, in two modes:
 *
 *   connection: accept ─► in flight ≥ threads + queue? ─yes─► refuse (503 / close)
 *                                  │ no
 *                                  ▼
 *               relaySocket ◄─rings─► pool.run({connection}) — holds a pool thread until it closes;
 *                                     waits in piscina's queue while every thread is held
 *
 *               owned mode (Node 26.12+): the socket itself goes with the task (transferred), and the pool
 *               thread reads, parses, runs the handler and writes; nothing is relayed
 *
 *   request:    event loop: socket ─► session (main thread) ─► pool.run({operation}) per request
 *                                                  queue full ─► that request answers 503
 */
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { createSession, type Operation, type OperationResult } from '@iolab/protocols';
import {
  type Connection,
  ConnectionFailedError,
  checkIntegerOption,
  InvalidServerOptionError,
  type RelayCapacities,
  type RunningServer,
  relaySocket,
  resolveSocketMode,
  ServerBase,
  type ServerOptions,
  type SocketMode,
  type SocketModeChoice,
  serveEvented,
  type ThreadStats,
} from '@iolab/server-core';
import { Piscina } from 'piscina';
import { type ConnectionTaskResult, type PoolTask, transferableCopy } from './pool-task.js';

export type PoolMode = 'connection' | 'request';

/**
 * Pool threads by default: twice the cores. Connection mode needs a thread per *concurrent connection*,
 * so this is deliberately small — the point of the model is that connections past it wait in the queue.
 */
export const DEFAULT_THREADS = Math.max(2, availableParallelism() * 2);
/** Tasks (connections or requests) that may wait for a thread before new ones are refused. */
export const DEFAULT_QUEUE = 1024;
/** Idle threads above `minThreads` exit after this long, so a burst does not pin memory forever. */
export const DEFAULT_THREAD_IDLE_TIMEOUT_MS = 30_000;

export interface PoolOptions extends ServerOptions {
  readonly mode?: PoolMode;
  /** piscina maxThreads. */
  readonly threads?: number;
  /** piscina minThreads; defaults to `threads` (a fixed pool, like Executors.newFixedThreadPool). */
  readonly minThreads?: number;
  /** piscina maxQueue: tasks waiting beyond running ones before refusal. */
  readonly queue?: number;
  /** piscina idleTimeout for threads above minThreads (`idleTimeoutMs` is the connections' one). */
  readonly threadIdleTimeoutMs?: number;
  readonly ring?: RelayCapacities;
  /** Connection mode: `owned` threads own their sockets (needs socket transfer), `relay`, or `auto` (default). */
  readonly socket?: SocketModeChoice;
}

// One bundled file (build-worker.mjs): a pool thread loads one module, not two packages' graphs.
const WORKER_URL = new URL('../dist/pool-worker.bundle.js', import.meta.url);

function isQueueFull(err: unknown): boolean {
  // piscina has no error codes; these are its two messages for "no room to queue" (errors.js).
  return err instanceof Error && /queue is at limit|No task queue available/.test(err.message);
}

/** A task that could not be posted (structured clone failed) vs. one that failed in its thread. */
function dispatchOrThread(err: unknown): 'IOLAB_SERVER_DISPATCH_FAILED' | 'IOLAB_SERVER_THREAD_FAILED' {
  return err instanceof Error && err.name === 'DataCloneError'
    ? 'IOLAB_SERVER_DISPATCH_FAILED'
    : 'IOLAB_SERVER_THREAD_FAILED';
}

class PoolServer extends ServerBase {
  readonly #mode: PoolMode;
  readonly #threads: number;
  readonly #queue: number;
  readonly #ring: RelayCapacities | undefined;
  readonly #pool: Piscina<PoolTask, OperationResult | ConnectionTaskResult>;
  readonly #socketChoice: SocketModeChoice | undefined;
  #socketMode: SocketMode | undefined;
  #inFlight = 0; // connection tasks submitted and not finished (running + queued)
  #peak = 0;
  readonly #threadsOnline: Promise<unknown>;

  constructor(options: PoolOptions) {
    super(options);
    const mode = options.mode ?? 'connection';
    if (mode !== 'connection' && mode !== 'request') {
      throw new InvalidServerOptionError('mode', mode, "'connection' | 'request'");
    }
    this.#mode = mode;
    this.#threads = checkIntegerOption('threads', options.threads ?? DEFAULT_THREADS, 1, 10_000);
    this.#queue = checkIntegerOption('queue', options.queue ?? DEFAULT_QUEUE, 0, 1_000_000);
    const minThreads = checkIntegerOption(
      'minThreads',
      options.minThreads ?? this.#threads,
      0,
      this.#threads,
    );
    const idleTimeout = checkIntegerOption(
      'threadIdleTimeoutMs',
      options.threadIdleTimeoutMs ?? DEFAULT_THREAD_IDLE_TIMEOUT_MS,
      0,
      86_400_000,
    );
    this.#ring = options.ring;
    this.#socketChoice = options.socket;
    // Every option set explicitly: piscina's defaults on 2 cores are 1–3 threads with no idle timeout.
    this.#pool = new Piscina<PoolTask, OperationResult | ConnectionTaskResult>({
      filename: WORKER_URL.href,
      minThreads,
      maxThreads: this.#threads,
      maxQueue: this.#queue,
      idleTimeout,
      concurrentTasksPerWorker: 1, // blocking tasks: a second task on a thread would wait behind the first
      atomics: 'sync', // our tasks are synchronous; threads park in Atomics.wait between tasks
      recordTiming: false, // we keep our own counters; skip piscina's per-task histogram
    });
    // The minThreads workers exist now; 'online' fires later, so listening here cannot miss it.
    this.#threadsOnline = Promise.all(this.#pool.threads.map((worker) => once(worker, 'online')));
  }

  /** Accept only once the fixed pool is up, so the first connections do not pay for thread start-up. */
  override async start(): Promise<RunningServer> {
    if (this.#mode === 'connection') this.#socketMode = await resolveSocketMode(this.#socketChoice);
    await this.#threadsOnline;
    return super.start();
  }

  /** Connection mode only: request mode keeps every socket on the event loop. */
  protected override get socketMode(): SocketMode | undefined {
    return this.#socketMode;
  }

  protected override serve(connection: Connection): void {
    if (this.#mode === 'request') {
      const evented = serveEvented(
        connection.socket,
        createSession(this.protocol),
        (op) => this.#runOperation(op),
        {
          counters: this.counters,
          timeouts: this.timeouts,
          onFailure: (code, cause) => this.connectionFailed(connection.id, code, cause),
          onRejected: (rejection) => this.connectionRejected(connection.id, rejection, true),
          failureBytes: this.failureBytes,
        },
      );
      connection.drain = evented.drain;
      return;
    }
    // Our own admission check mirrors piscina's maxQueue, so we can refuse before relaying any byte.
    if (this.#inFlight >= this.#threads + this.#queue) {
      this.refuse(connection.socket);
      return;
    }
    if (this.#socketMode === 'owned') {
      this.#serveOwned(connection);
      return;
    }
    const relay = relaySocket(connection.socket, this.#ring);
    connection.drain = relay.drain;
    this.#inFlight++;
    const task: PoolTask = {
      kind: 'connection',
      protocol: this.protocol,
      relay: relay.buffer,
      counters: this.counters.buffer,
      timeouts: this.timeouts,
      acceptedAt: connection.acceptedAt,
    };
    this.#pool
      .run(task)
      .then(
        (result) => this.#logTaskFailures(connection.id, result),
        (err: unknown) => {
          if (isQueueFull(err)) this.refuse(connection.socket);
          // The thread failed past serveBlocking's guard, or was terminated by our own close().
          else if (!this.isClosing) this.connectionFailed(connection.id, dispatchOrThread(err), err);
        },
      )
      .finally(() => {
        this.#inFlight--;
        relay.workerEnded();
      });
    this.#notePeak();
  }

  #serveOwned(connection: Connection): void {
    const socket = connection.socket;
    const ended = connection.transfer();
    // A port of its own per connection: piscina offers no channel to one running task, and 'drain' must
    // reach the thread serving this socket (a queued task finds it waiting when it starts).
    const { port1, port2 } = new MessageChannel();
    connection.drain = () => port1.postMessage('drain');
    this.#inFlight++;
    const task: PoolTask = {
      kind: 'owned-connection',
      protocol: this.protocol,
      socket,
      control: port2,
      counters: this.counters.buffer,
      timeouts: this.timeouts,
      acceptedAt: connection.acceptedAt,
    };
    // @types/node predates socket transfer: a Socket is not a TransferListItem in its typings.
    this.#pool
      .run(task, { transferList: [socket as never, port2] })
      .then(
        (result) => this.#logTaskFailures(connection.id, result),
        (err: unknown) => {
          if (isQueueFull(err)) this.refuse(socket);
          // The thread failed past serveOwned's guard, or was terminated by our own close().
          else if (!this.isClosing) this.connectionFailed(connection.id, dispatchOrThread(err), err);
        },
      )
      .finally(() => {
        this.#inFlight--;
        port1.close();
        if (!socket.destroyed) socket.destroy(); // never transferred (refused, or the pool was destroyed)
        ended();
      });
    this.#notePeak();
  }

  async #runOperation(op: Operation): Promise<OperationResult> {
    let transferList: ArrayBuffer[] | undefined;
    if (op.kind === 'echo') {
      // Never the session's own buffer: see transferableCopy.
      const body = transferableCopy(op.body);
      op = { kind: 'echo', body };
      transferList = [body.buffer as ArrayBuffer];
    }
    try {
      const result = this.#pool.run({ kind: 'operation', op }, transferList ? { transferList } : {});
      this.#notePeak();
      const value = await result;
      if (value === null || typeof value !== 'object' || !('ok' in value)) {
        throw new ConnectionFailedError('IOLAB_SERVER_THREAD_FAILED', 'pool task returned no result');
      }
      return value;
    } catch (err) {
      if (isQueueFull(err)) {
        this.noteRefusal();
        return { ok: false, status: 503, message: 'pool queue is full' };
      }
      if (err instanceof ConnectionFailedError) throw err;
      // serveEvented answers 500, closes this connection, and counts and logs it with this code.
      throw new ConnectionFailedError(dispatchOrThread(err), err);
    }
  }

  /** Failures and the refusal a connection task caught itself: counted in the shared counters there, logged here. */
  #logTaskFailures(connectionId: number, result: OperationResult | ConnectionTaskResult): void {
    const task = result as ConnectionTaskResult | null;
    for (const f of task?.failures ?? []) {
      this.connectionFailed(connectionId, f.code, f.message, true);
    }
    if (task?.rejected !== undefined) this.connectionRejected(connectionId, task.rejected, true);
  }

  #notePeak(): void {
    this.#peak = Math.max(this.#peak, this.#pool.threads.length);
  }

  protected override threadStats(): ThreadStats {
    this.#notePeak();
    return { alive: this.#pool.threads.length, peak: this.#peak, queue: this.#pool.queueSize };
  }

  protected override async stopThreads(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** Starts a piscina-pool server; resolves once it accepts connections. */
export function startPool(options: PoolOptions): Promise<RunningServer> {
  return new PoolServer(options).start();
}

/**
 * Thread per connection, blocking style (Java's classic `ServerSocket.accept()` + `new Thread(handler)`):
 *
 *   main thread: accept ─► maxThreads reached? ─yes─► refuse (503 / close), count
 *                               │ no
 *                               ▼
 *        owned: new Worker({ socket }) ─ the thread reads, parses, runs the handler, writes ─┐
 *        relay: relaySocket(socket) ◄──SharedArrayBuffer rings──► new Worker: serveBlocking    │
 *                                                                     └─ exits with its connection ◄┘
 *
 * `owned` (Node 26.12+ on Unix, detected at start) is the faithful one: the thread owns its socket as a
 * Java BIO thread does. `relay` is the fallback where sockets cannot move between threads: every byte
 * crosses the main thread, which costs CPU per request and makes the main thread a shared bottleneck.
 */
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { ProtocolName, SessionRejection } from '@iolab/protocols';
import type { ConnectionFailureCode } from '@iolab/server-core';
import {
  type Connection,
  checkIntegerOption,
  type ReadTimeouts,
  type RelayCapacities,
  type RunningServer,
  relaySocket,
  resolveSocketMode,
  ServerBase,
  type ServerOptions,
  type SocketMode,
  type SocketModeChoice,
  type ThreadStats,
} from '@iolab/server-core';

/**
 * Safety cap on connection threads. Each is a V8 isolate: ~5 MB RSS and tens of ms to start on this class
 * of machine, so 1000 threads is ~5 GB — enough to show BIO's collapse as connections grow, while a runaway
 * client still meets a 503 instead of taking the host down.
 */
export const DEFAULT_MAX_THREADS = 1000;

export interface BioOptions extends ServerOptions {
  /** Connections beyond this many live threads are refused (HTTP 503 then close; close for framed). */
  readonly maxThreads?: number;
  /** Per-connection ring sizes of the main-thread relay. */
  readonly ring?: RelayCapacities;
  /** `owned`: threads own their sockets (needs socket transfer); `relay`; `auto` (default): owned if possible. */
  readonly socket?: SocketModeChoice;
}

/** What a BIO thread receives in `workerData`. Internal to this package. */
export interface BioWorkerData {
  readonly protocol: ProtocolName;
  /** Owned mode: the connection's socket, transferred. */
  readonly socket?: Socket;
  /** Relay mode: the connection's relay buffer. */
  readonly relay?: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  readonly timeouts: ReadTimeouts;
  readonly acceptedAt: number;
}

/** What a BIO thread posts when the server failed on its connection (already counted in `counters`). */
export interface BioFailureMessage {
  readonly kind: 'failure';
  readonly code: ConnectionFailureCode;
  readonly message: string;
}

/** What a BIO thread posts when the session refused its connection's input (already counted). */
export interface BioRejectedMessage {
  readonly kind: 'rejected';
  readonly rejection: SessionRejection;
}

// Resolves to dist/bio-worker.js from src/ (under vitest) and from dist/ alike: workers need built JS.
const WORKER_URL = new URL('../dist/bio-worker.bundle.js', import.meta.url);

class BioServer extends ServerBase {
  readonly #maxThreads: number;
  readonly #ring: RelayCapacities | undefined;
  readonly #workers = new Set<Worker>();
  readonly #socketChoice: SocketModeChoice | undefined;
  #socketMode: SocketMode = 'relay';
  #peak = 0;

  constructor(options: BioOptions) {
    super(options);
    this.#maxThreads = checkIntegerOption(
      'maxThreads',
      options.maxThreads ?? DEFAULT_MAX_THREADS,
      1,
      100_000,
    );
    this.#ring = options.ring;
    this.#socketChoice = options.socket;
  }

  override async start(): Promise<RunningServer> {
    this.#socketMode = await resolveSocketMode(this.#socketChoice);
    return super.start();
  }

  protected override get socketMode(): SocketMode {
    return this.#socketMode;
  }

  protected override serve(connection: Connection): void {
    if (this.#workers.size >= this.#maxThreads) {
      this.refuse(connection.socket);
      return;
    }
    if (this.#socketMode === 'owned') {
      this.#serveOwned(connection);
      return;
    }
    const relay = relaySocket(connection.socket, this.#ring);
    const workerData: BioWorkerData = {
      protocol: this.protocol,
      relay: relay.buffer,
      counters: this.counters.buffer,
      timeouts: this.timeouts,
      acceptedAt: connection.acceptedAt,
    };
    const worker = new Worker(WORKER_URL, { workerData });
    this.#track(worker, connection);
    connection.drain = relay.drain;
    worker.once('exit', () => {
      this.#workers.delete(worker);
      relay.workerEnded();
    });
  }

  #serveOwned(connection: Connection): void {
    const socket = connection.socket;
    const ended = connection.transfer();
    const workerData: BioWorkerData = {
      protocol: this.protocol,
      socket,
      counters: this.counters.buffer,
      timeouts: this.timeouts,
      acceptedAt: connection.acceptedAt,
    };
    // @types/node predates socket transfer: a Socket is not a TransferListItem in its typings. A throw
    // here (the thread could not be created) reaches ServerBase's dispatch guard: 500 and close.
    const worker = new Worker(WORKER_URL, { workerData, transferList: [socket as never] });
    this.#track(worker, connection);
    connection.drain = () => worker.postMessage('drain');
    worker.once('exit', () => {
      this.#workers.delete(worker);
      ended();
    });
  }

  #track(worker: Worker, connection: Connection): void {
    this.#workers.add(worker);
    this.#peak = Math.max(this.#peak, this.#workers.size);
    // Failures the thread caught itself (either mode): counted there, logged here (the main thread owns
    // the log).
    worker.on('message', (message: BioFailureMessage | BioRejectedMessage) => {
      if (message?.kind === 'failure') {
        this.connectionFailed(connection.id, message.code, message.message, true);
      } else if (message?.kind === 'rejected') {
        this.connectionRejected(connection.id, message.rejection, true);
      }
    });
    // The thread died past its own guard (out of memory, a throw at start-up): counted and logged here;
    // 'exit' follows and closes the connection (relay: through the relay; owned: the socket dies with the
    // thread that owns it).
    worker.on('error', (err) => this.connectionFailed(connection.id, 'IOLAB_SERVER_THREAD_FAILED', err));
  }

  protected override threadStats(): ThreadStats {
    return { alive: this.#workers.size, peak: this.#peak, queue: 0 };
  }

  protected override async stopThreads(): Promise<void> {
    // Only threads stuck past the drain deadline (in a long sleep or cpu op) are left; stop them.
    await Promise.all([...this.#workers].map((worker) => worker.terminate()));
  }
}

/** Starts a thread-per-connection server; resolves once it accepts connections. */
export function startBio(options: BioOptions): Promise<RunningServer> {
  return new BioServer(options).start();
}

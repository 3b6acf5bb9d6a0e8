/**
 * Thread per connection, blocking style (Java's classic `ServerSocket.accept()` + a thread per
 * connection), with the idle-thread reuse of `Executors.newCachedThreadPool()`, the idiomatic way to run it:
 *
 *   main thread: accept ─► an idle thread? ─yes─► hand it the connection (no start-up)      threadsReused
 *                               │ no
 *                               ▼
 *                 live threads (busy + idle) ≥ maxThreads? ─yes─► refuse (503 / close), count
 *                               │ no
 *                               ▼
 *                 start a thread with the connection in workerData                       threadsStarted
 *
 *   owned: the socket is transferred (workerData, or postMessage(…, [socket]) to an idle thread); the
 *          thread reads, parses, runs the handler and writes
 *   relay: relaySocket(socket) ◄──SharedArrayBuffer rings──► the thread's serveBlocking
 *
 *   connection closed ─► thread says "idle" ─► waits up to threadKeepAliveMs for the next one ─► exits
 *
 * `owned` (Node 26.12+ on Unix, detected at start) is the faithful one: the thread owns its socket as a
 * Java BIO thread does. `relay` is the fallback where sockets cannot move between threads: every byte
 * crosses the main thread, which costs CPU per request and makes the main thread a shared bottleneck.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type Connection,
  checkIntegerOption,
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
import type {
  BioThreadCommand,
  BioThreadConnection,
  BioThreadReport,
  BioWorkerData,
} from './bio-thread-messages.js';

/**
 * Safety cap on connection threads. Each is a V8 isolate: ~5 MB RSS and tens of ms to start on this class
 * of machine, so 1000 threads is ~5 GB — enough to show BIO's collapse as connections grow, while a runaway
 * client still meets a 503 instead of taking the host down.
 */
export const DEFAULT_MAX_THREADS = 1000;

/**
 * How long a thread whose connection closed waits for the next one before it ends: 60 s, the keep-alive
 * of Java's `Executors.newCachedThreadPool()`. Long enough that a client reconnecting for every
 * measurement window (wrk) meets running threads; short enough that a burst's threads do not stay.
 */
export const DEFAULT_THREAD_KEEP_ALIVE_MS = 60_000;

export interface BioOptions extends ServerOptions {
  /**
   * Live threads (busy + idle) at most; a connection that finds no idle thread at the cap is refused
   * (HTTP 503 then close; close for framed).
   */
  readonly maxThreads?: number;
  /** An idle thread waits this long for its next connection, then ends; 0 = end with the connection. */
  readonly threadKeepAliveMs?: number;
  /** Per-connection ring sizes of the main-thread relay. */
  readonly ring?: RelayCapacities;
  /** `owned`: threads own their sockets (needs socket transfer); `relay`; `auto` (default): owned if possible. */
  readonly socket?: SocketModeChoice;
}

// Resolve to dist/ from src/ (under vitest) and from dist/ alike: threads need built, bundled JS. One
// bundle per socket mode, so a new thread compiles only the code its connections run.
const WORKER_URLS: Record<SocketMode, URL> = {
  owned: new URL('../dist/bio-owned-worker.bundle.cjs', import.meta.url),
  relay: new URL('../dist/bio-relay-worker.bundle.cjs', import.meta.url),
};

/**
 * The environment of every BIO thread: the process's, plus V8's compile cache for the thread bundle
 * (`NODE_COMPILE_CACHE`, read by each thread at start; Node 22.1+, older Node ignores it). A new thread
 * then loads the bundle's compiled code instead of compiling it: on Node 26 here the bundle cost 4.1 ms
 * over an empty worker's 18.8 ms without the cache and 1.4 ms with it (30 interleaved starts, medians).
 * The JVM's class-data sharing does the same for a new Java process. The directory is Node's own default
 * for `module.enableCompileCache()`; a cache the user set (or disabled) is left as it is.
 */
function threadEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (env.NODE_COMPILE_CACHE === undefined && env.NODE_DISABLE_COMPILE_CACHE === undefined) {
    env.NODE_COMPILE_CACHE = join(tmpdir(), 'node-compile-cache');
  }
  return env;
}

/** One BIO thread as the accepting thread tracks it. */
interface BioThread {
  readonly worker: Worker;
  /** The connection it serves now; undefined while idle. */
  connection: Connection | undefined;
  /** Tells the base (owned) or the relay that the thread is done with `connection`. */
  endConnection: (() => void) | undefined;
  /** Idle: ends the thread when the keep-alive passes. */
  keepAlive: NodeJS.Timeout | undefined;
}

class BioServer extends ServerBase {
  readonly #maxThreads: number;
  readonly #keepAliveMs: number;
  readonly #ring: RelayCapacities | undefined;
  readonly #threads = new Set<BioThread>();
  /**
   * Idle threads, most recently idle last: the next connection takes the warmest thread (LIFO, as the JDK
   * cached pool's SynchronousQueue), and the coldest run out their keep-alive. Bounded by maxThreads.
   */
  readonly #idle: BioThread[] = [];
  readonly #socketChoice: SocketModeChoice | undefined;
  readonly #threadEnv = threadEnv();
  #socketMode: SocketMode = 'relay';
  #peak = 0;
  #started = 0;
  #reused = 0;

  constructor(options: BioOptions) {
    super(options);
    this.#maxThreads = checkIntegerOption(
      'maxThreads',
      options.maxThreads ?? DEFAULT_MAX_THREADS,
      1,
      100_000,
    );
    this.#keepAliveMs = checkIntegerOption(
      'threadKeepAliveMs',
      options.threadKeepAliveMs ?? DEFAULT_THREAD_KEEP_ALIVE_MS,
      0,
      86_400_000,
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
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      this.#handOver(idle, connection);
      return;
    }
    if (this.#threads.size >= this.#maxThreads) {
      this.refuse(connection.socket);
      return;
    }
    this.#startThread(connection);
  }

  /** What the thread gets for `connection`, and the base's connection wired to it. */
  #attach(thread: Omit<BioThread, 'worker'>, connection: Connection): BioThreadConnection {
    thread.connection = connection;
    if (this.#socketMode === 'owned') {
      const socket = connection.socket;
      thread.endConnection = connection.transfer();
      return { kind: 'connection', socket, acceptedAt: connection.acceptedAt };
    }
    const relay = relaySocket(connection.socket, this.#ring);
    connection.drain = relay.drain;
    thread.endConnection = relay.workerEnded;
    return { kind: 'connection', relay: relay.buffer, acceptedAt: connection.acceptedAt };
  }

  #startThread(connection: Connection): void {
    const pending: Omit<BioThread, 'worker'> = {
      connection: undefined,
      endConnection: undefined,
      keepAlive: undefined,
    };
    const first = this.#attach(pending, connection);
    const workerData: BioWorkerData = {
      protocol: this.protocol,
      counters: this.counters.buffer,
      timeouts: this.timeouts,
      exitWhenDone: this.#keepAliveMs === 0,
      first,
    };
    // @types/node predates socket transfer: a Socket is not a TransferListItem in its typings. A throw
    // here (the thread could not be created) reaches ServerBase's dispatch guard: 500 and close.
    const worker = new Worker(WORKER_URLS[this.#socketMode], {
      workerData,
      env: this.#threadEnv,
      ...(first.socket !== undefined && { transferList: [first.socket as never] }),
    });
    const thread: BioThread = { ...pending, worker };
    this.#threads.add(thread);
    this.#started++;
    this.#peak = Math.max(this.#peak, this.#threads.size);
    this.#wire(thread);
    this.#drainVia(thread, connection);
  }

  #handOver(thread: BioThread, connection: Connection): void {
    clearTimeout(thread.keepAlive);
    thread.keepAlive = undefined;
    let sent = false;
    try {
      const next = this.#attach(thread, connection);
      thread.worker.ref(); // a busy thread keeps the process alive, as a new one does
      thread.worker.postMessage(
        next satisfies BioThreadCommand,
        next.socket !== undefined ? [next.socket as never] : [],
      );
      sent = true;
    } finally {
      // Not handed over (the socket could not be posted): the thread stays idle; ServerBase's dispatch
      // guard answers 500 and closes the connection.
      if (!sent) {
        thread.connection = undefined;
        thread.endConnection = undefined;
        this.#idleWait(thread);
      }
    }
    this.#reused++;
    this.#drainVia(thread, connection);
  }

  /** Owned mode: 'drain' travels to the thread that owns the socket now. */
  #drainVia(thread: BioThread, connection: Connection): void {
    if (this.#socketMode === 'owned') {
      connection.drain = () => thread.worker.postMessage('drain' satisfies BioThreadCommand);
    }
  }

  #wire(thread: BioThread): void {
    const { worker } = thread;
    // Failures the thread caught itself (either mode): counted there, logged here (the main thread owns
    // the log). Messages keep their order, so these belong to the connection it serves now.
    worker.on('message', (message: BioThreadReport) => {
      const id = thread.connection?.id;
      if (message?.kind === 'failure') {
        this.connectionFailed(id, message.code, message.message, true);
      } else if (message?.kind === 'rejected') {
        this.connectionRejected(id, message.rejection, true);
      } else if (message?.kind === 'idle') {
        this.#connectionDone(thread);
        if (this.isClosing) worker.postMessage('exit' satisfies BioThreadCommand);
        else this.#idleWait(thread);
      }
    });
    // The thread died past its own guard (out of memory, a throw at start-up): counted and logged here;
    // 'exit' follows and closes the connection (relay: through the relay; owned: the socket dies with the
    // thread that owns it).
    worker.on('error', (err) =>
      this.connectionFailed(thread.connection?.id, 'IOLAB_SERVER_THREAD_FAILED', err),
    );
    worker.once('exit', () => {
      this.#threads.delete(thread);
      this.#leaveIdle(thread);
      this.#connectionDone(thread);
    });
  }

  #connectionDone(thread: BioThread): void {
    const end = thread.endConnection;
    thread.connection = undefined;
    thread.endConnection = undefined;
    end?.();
  }

  #idleWait(thread: BioThread): void {
    // An idle thread must not keep the process alive, nor its keep-alive clock.
    thread.worker.unref();
    thread.keepAlive = setTimeout(() => {
      thread.keepAlive = undefined;
      this.#leaveIdle(thread);
      thread.worker.postMessage('exit' satisfies BioThreadCommand);
    }, this.#keepAliveMs);
    thread.keepAlive.unref();
    this.#idle.push(thread);
  }

  #leaveIdle(thread: BioThread): void {
    clearTimeout(thread.keepAlive);
    thread.keepAlive = undefined;
    const at = this.#idle.indexOf(thread);
    if (at !== -1) this.#idle.splice(at, 1);
  }

  protected override threadStats(): ThreadStats {
    return {
      alive: this.#threads.size,
      peak: this.#peak,
      queue: 0,
      reuse: { started: this.#started, reused: this.#reused, idle: this.#idle.length },
    };
  }

  protected override async stopThreads(): Promise<void> {
    // Idle threads, and threads stuck past the drain deadline (in a long sleep or cpu op): stop them.
    for (const thread of this.#idle.splice(0)) clearTimeout(thread.keepAlive);
    await Promise.all([...this.#threads].map((thread) => thread.worker.terminate()));
  }
}

/** Starts a thread-per-connection server; resolves once it accepts connections. */
export function startBio(options: BioOptions): Promise<RunningServer> {
  return new BioServer(options).start();
}

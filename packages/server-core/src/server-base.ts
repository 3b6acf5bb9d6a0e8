/**
 * The lifecycle every server model shares, owned once (as undici's DispatcherBase owns close/destroy for
 * every dispatcher): listen, accept, track connections, refuse, drain, force-close, count. A model fills
 * in one hook, `serve(connection)` — how a connection's session is run — plus, if it has threads,
 * `threadStats()` and `stopThreads()`.
 *
 *   start() ──► listening ──close(deadline)──► draining ──all connections gone──► stopThreads ──► closed
 *                                                  └────────deadline passed: destroy the rest───┘
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { failureBytes, type ProtocolName, refusalBytes, type SessionRejection } from '@iolab/protocols';
import {
  type ConnectionFailureLog,
  type ConnectionRejectionLog,
  stderrFailureLog,
  stderrRejectionLog,
} from './connection-failure-log.js';
import { ConnectionFailedError, type ConnectionFailureCode, InvalidServerOptionError } from './errors.js';
import {
  acceptedAtMs,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  type ReadTimeouts,
} from './read-deadline.js';
import { SharedCounters } from './shared-counters.js';
import { closeAfterFlush } from './socket-close.js';

export const DEFAULT_HOST = '127.0.0.1';
/** How long `close()` lets in-flight requests finish before destroying what is left. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** Kernel accept queue; 511 is Node's own default and what `somaxconn` allows on most Linux hosts. */
export const DEFAULT_BACKLOG = 511;

const PROTOCOLS: readonly ProtocolName[] = ['http', 'echo-lp', 'echo-line'];

export interface ServerOptions {
  readonly protocol: ProtocolName;
  readonly host?: string;
  /** 0 (default) lets the kernel pick; read the port from `address`. */
  readonly port?: number;
  readonly backlog?: number;
  /** Default deadline for `close()`. */
  readonly drainTimeoutMs?: number;
  /**
   * Where failures of the server on one connection are logged (each is also counted in `errors`).
   * Default: one line on stderr each, at most `FAILURE_LOG_LINES_PER_SECOND`.
   */
  readonly logConnectionFailure?: ConnectionFailureLog;
  /**
   * Where refusals of a peer's bad input are logged (each is also counted in `rejected`). Default: one line
   * on stderr each, at most `FAILURE_LOG_LINES_PER_SECOND` (a cap of its own, apart from failures').
   */
  readonly logConnectionRejected?: ConnectionRejectionLog;
  /** The whole request head (framed: a frame) must arrive within this, else 408/error and close; 0 = never. */
  readonly headerTimeoutMs?: number;
  /** Close a keep-alive connection with nothing in flight (or a body with no byte) this long; 0 = never. */
  readonly idleTimeoutMs?: number;
}

/** How a thread model's handler threads reach their sockets (see `@iolab/server-core`'s README). */
export type SocketMode = 'relay' | 'owned';

export interface ServerStats {
  /** Open connections now, and the most ever open at once. */
  readonly connections: number;
  readonly peakConnections: number;
  /** Threads that run handlers (the loop's one thread, bio's per-connection threads, the pool's threads). */
  readonly threadsAlive: number;
  readonly threadsPeak: number;
  /**
   * Models that keep a finished connection's thread for the next one (bio): threads started, connections
   * handed to an already running thread, and threads waiting idle now (counted in `threadsAlive` too).
   */
  readonly threadsStarted?: number;
  readonly threadsReused?: number;
  readonly threadsIdle?: number;
  /** Work accepted but waiting for a thread (pool); 0 for models without a queue. */
  readonly queueLength: number;
  /** Operations answered (one per HTTP request or framed request that reached the application). */
  readonly requests: number;
  /** Socket errors, failed operations and crashed handlers: the server's own failures. */
  readonly errors: number;
  /** Connections the peer reset or closed with an answer unread (ECONNRESET, EPIPE): the client's doing. */
  readonly peerResets: number;
  /**
   * Connections whose input was refused as bad (malformed, over a limit): answered 4xx / error reply,
   * closed. The client's fault, kept out of `errors`; timeouts are counted below, not here.
   */
  readonly rejected: number;
  /** Connections turned away at a cap (`maxThreads`, full queue). */
  readonly refused: number;
  /** Request heads (framed: frames) or bodies not received in time: answered 408 / error, closed. */
  readonly headerTimeouts: number;
  /** Keep-alive connections closed after the idle timeout. */
  readonly idleTimeouts: number;
  /** Thread models: whether threads own their sockets or the main thread relays bytes; absent otherwise. */
  readonly socketMode?: SocketMode;
  readonly rssBytes: number;
}

export interface RunningServer {
  readonly address: AddressInfo;
  /** Stops accepting, lets in-flight requests finish within `deadlineMs`, then destroys what is left. */
  close(deadlineMs?: number): Promise<void>;
  stats(): ServerStats;
}

export interface ThreadStats {
  readonly alive: number;
  readonly peak: number;
  readonly queue: number;
  /** Threads that outlive their connection (bio): see `ServerStats.threadsStarted` and the two after it. */
  readonly reuse?: { readonly started: number; readonly reused: number; readonly idle: number };
}

/** One accepted connection as the model sees it. */
export interface Connection {
  readonly id: number;
  readonly socket: Socket;
  /** `acceptedAtMs()` at accept: a thread that takes the connection later counts its deadlines from here. */
  readonly acceptedAt: number;
  /** Set by the model: finish at the next request boundary and close. The default closes at once. */
  drain: () => void;
  /**
   * Owned mode: the socket is about to move to another thread (its handle here then closes at once).
   * The base stops watching this handle; call the returned function when the owning thread reports the
   * connection closed, so `stats().connections` and `close()` keep counting it until then.
   */
  transfer(): () => void;
}

export abstract class ServerBase {
  protected readonly protocol: ProtocolName;
  protected readonly counters = new SharedCounters();
  protected readonly timeouts: ReadTimeouts;
  readonly #host: string;
  readonly #port: number;
  readonly #backlog: number;
  readonly #drainTimeoutMs: number;
  readonly #logFailure: ConnectionFailureLog;
  readonly #logRejected: ConnectionRejectionLog;
  readonly #connections = new Set<Connection>();
  #server: Server | undefined;
  #peakConnections = 0;
  #refused = 0;
  #nextId = 1;
  #closing: Promise<void> | undefined;
  #allGone: (() => void) | undefined;

  constructor(options: ServerOptions) {
    if (!PROTOCOLS.includes(options.protocol)) {
      throw new InvalidServerOptionError('protocol', options.protocol, PROTOCOLS.join(' | '));
    }
    this.protocol = options.protocol;
    this.#host = options.host ?? DEFAULT_HOST;
    this.#port = checkIntegerOption('port', options.port ?? 0, 0, 65535);
    this.#backlog = checkIntegerOption('backlog', options.backlog ?? DEFAULT_BACKLOG, 1, 65535);
    this.#drainTimeoutMs = checkIntegerOption(
      'drainTimeoutMs',
      options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      0,
      3_600_000,
    );
    this.#logFailure = options.logConnectionFailure ?? stderrFailureLog();
    this.#logRejected = options.logConnectionRejected ?? stderrRejectionLog();
    this.timeouts = {
      headerTimeoutMs: checkIntegerOption(
        'headerTimeoutMs',
        options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS,
        0,
        86_400_000,
      ),
      idleTimeoutMs: checkIntegerOption(
        'idleTimeoutMs',
        options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        0,
        86_400_000,
      ),
    };
  }

  /** Thread models say which socket mode they run; the loop models have none. */
  protected get socketMode(): SocketMode | undefined {
    return undefined;
  }

  /** Runs one connection's session until it ends. Called once per accepted (not refused) connection. */
  protected abstract serve(connection: Connection): void;

  /** The main thread is the only thread unless a model says otherwise. */
  protected threadStats(): ThreadStats {
    return { alive: 1, peak: 1, queue: 0 };
  }

  /** Called after every connection is gone (or was destroyed at the deadline). */
  protected async stopThreads(): Promise<void> {}

  protected get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  /** What to write before closing a connection the server failed on: HTTP 500, nothing for framed. */
  protected get failureBytes(): Uint8Array {
    return failureBytes(this.protocol);
  }

  /**
   * The server failed on one connection (a throwing session, handler, thread, or dispatch): count it in
   * `errors` (unless a worker thread already did, through the shared counters) and log it with its code.
   * The caller closes that connection; nothing else is touched.
   */
  protected connectionFailed(
    connectionId: number | undefined,
    code: ConnectionFailureCode,
    cause: unknown,
    alreadyCounted = false,
  ): void {
    if (!alreadyCounted) this.counters.addErrors();
    try {
      this.#logFailure(new ConnectionFailedError(code, cause, connectionId), this.protocol);
    } catch {
      // A log that throws (a closed stderr pipe) must not turn one failure into a crash.
    }
  }

  /**
   * A session refused one connection's input (bad bytes, a limit exceeded): count it in `rejected` (unless
   * the drive loop or a worker thread already did, through the shared counters) and log it with its code.
   */
  protected connectionRejected(
    connectionId: number | undefined,
    rejection: SessionRejection,
    alreadyCounted = false,
  ): void {
    if (!alreadyCounted) this.counters.addRejected();
    try {
      this.#logRejected(rejection, connectionId, this.protocol);
    } catch {
      // As for failures: a log that throws must not turn a refusal into a crash.
    }
  }

  /** Counts work turned away at a cap without a connection to close (pool request mode's 503s). */
  protected noteRefusal(): void {
    this.#refused++;
  }

  /** Turns a connection away at a cap: HTTP gets a 503, framed protocols a plain close. */
  protected refuse(socket: Socket): void {
    this.noteRefusal();
    const bytes = refusalBytes(this.protocol);
    if (bytes.length > 0 && !socket.destroyed) socket.write(bytes);
    closeAfterFlush(socket);
  }

  async start(): Promise<RunningServer> {
    if (this.#server !== undefined) throw new Error('start() called twice');
    // allowHalfOpen: a peer's FIN ends its requests, not our answers to them. pauseOnConnect in owned
    // mode: bytes this thread read before the transfer would stay in this thread's stream buffer and be
    // lost to the thread that takes the socket, so this thread must never start reading it.
    const server = createServer(
      { allowHalfOpen: true, noDelay: true, pauseOnConnect: this.socketMode === 'owned' },
      (socket) => this.#accept(socket),
    );
    this.#server = server;
    server.listen({ host: this.#host, port: this.#port, backlog: this.#backlog });
    await once(server, 'listening');
    const address = server.address() as AddressInfo;
    return {
      address,
      close: (deadlineMs) => this.#close(deadlineMs ?? this.#drainTimeoutMs),
      stats: () => this.#stats(),
    };
  }

  #accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const onError = (error: Error): void => this.counters.addSocketError(error);
    const gone = (): void => {
      if (!this.#connections.delete(connection)) return;
      if (this.#connections.size === 0) this.#allGone?.();
    };
    const connection: Connection = {
      id: this.#nextId++,
      socket,
      acceptedAt: acceptedAtMs(),
      drain: () => closeAfterFlush(socket),
      transfer: () => {
        socket.off('error', onError);
        socket.off('close', gone);
        return gone;
      },
    };
    this.#connections.add(connection);
    this.#peakConnections = Math.max(this.#peakConnections, this.#connections.size);
    socket.on('error', onError);
    socket.once('close', gone);
    try {
      this.serve(connection);
    } catch (err) {
      // The model could not start serving it (a thread that failed to start, a relay that could not be
      // built, a transfer that failed): this connection gets a 500 and a close, the listener carries on.
      this.connectionFailed(connection.id, 'IOLAB_SERVER_DISPATCH_FAILED', err);
      // A failed owned-mode transfer may already have detached the base's listeners: the socket is still
      // this thread's, so watch its close again (`gone` is idempotent).
      socket.once('close', gone);
      if (!socket.destroyed && this.failureBytes.length > 0) socket.write(this.failureBytes);
      closeAfterFlush(socket);
    }
  }

  #close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#drainAndClose(deadlineMs);
    return this.#closing;
  }

  async #drainAndClose(deadlineMs: number): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    const allGone = new Promise<void>((resolve) => {
      this.#allGone = resolve;
      if (this.#connections.size === 0) resolve();
    });
    for (const connection of this.#connections) connection.drain();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    if ((await Promise.race([allGone, deadline])) === 'deadline') {
      for (const connection of this.#connections) connection.socket.destroy();
    }
    clearTimeout(timer);
    await this.stopThreads();
    await serverClosed;
  }

  #stats(): ServerStats {
    const threads = this.threadStats();
    return {
      connections: this.#connections.size,
      peakConnections: this.#peakConnections,
      threadsAlive: threads.alive,
      threadsPeak: threads.peak,
      ...(threads.reuse !== undefined && {
        threadsStarted: threads.reuse.started,
        threadsReused: threads.reuse.reused,
        threadsIdle: threads.reuse.idle,
      }),
      queueLength: threads.queue,
      requests: this.counters.requests,
      errors: this.counters.errors,
      peerResets: this.counters.peerResets,
      rejected: this.counters.rejected,
      refused: this.#refused,
      headerTimeouts: this.counters.headerTimeouts,
      idleTimeouts: this.counters.idleTimeouts,
      ...(this.socketMode !== undefined && { socketMode: this.socketMode }),
      rssBytes: process.memoryUsage.rss(),
    };
  }
}

export function checkIntegerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidServerOptionError(name, value, `an integer in [${min}, ${max}]`);
  }
  return value;
}

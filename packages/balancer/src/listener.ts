/**
 * One listening socket: accepts clients and hands each to a {@link ProxySession} (proxy mode) or answers
 * `host:port\n` of the chosen backend and closes (director mode, LVS's VS/RS split done at layer 7).
 */

import { createServer, type Server, type Socket } from 'node:net';
import type { BalancerEvents, ListenerStats } from './balancer-api.js';
import { DEFAULT_ACCEPT_PAUSE_MS, type ResolvedListener } from './config.js';
import { formatHostPort } from './config-resolve.js';
import type { Pool } from './pool.js';
import { unmapIPv4 } from './proxy-protocol/header.js';
import { ProxySession } from './proxy-session.js';

export interface ListenerEnv {
  pool(name: string): Pool;
  maxHeldBytes(): number;
  emit<K extends keyof BalancerEvents>(event: K, payload: BalancerEvents[K]): void;
  /** Balancer-wide registry of live sessions (for close deadlines). */
  sessions: Set<ProxySession>;
}

export class Listener {
  config: ResolvedListener;
  readonly server: Server;
  address: { host: string; port: number } | undefined;
  active = 0;
  total = 0;
  acceptErrors = 0;
  #env: ListenerEnv;
  #shedUntil = 0;

  constructor(config: ResolvedListener, env: ListenerEnv) {
    this.config = config;
    this.#env = env;
    // allowHalfOpen: a client's FIN must not close our side before the backend's reply is through.
    // pauseOnConnect: a proxied client's handle moves to a socket reading through `onread` (ProxySession);
    // it must not start reading into the accepted socket first. Director mode resumes its own.
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (s) =>
      this.#accept(s),
    );
    this.server.on('error', (err: NodeJS.ErrnoException) => this.#onServerError(err));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(
        { host: this.config.host, port: this.config.port, backlog: this.config.backlog },
        () => {
          this.server.off('error', onError);
          const a = this.server.address();
          if (a === null || typeof a === 'string') throw new Error('listener bound to a non-TCP address');
          this.address = { host: a.address, port: a.port };
          resolve(this.address);
        },
      );
    });
  }

  /**
   * Stop accepting; established connections are not touched. Resolves at once: `server.close()` closes the
   * listening socket synchronously, while its callback would wait for every connection to end.
   */
  close(): void {
    if (this.server.listening) this.server.close();
  }

  stats(): ListenerStats {
    return {
      name: this.config.name,
      mode: this.config.mode,
      pool: this.config.pool,
      address: this.address,
      active: this.active,
      total: this.total,
      acceptErrors: this.acceptErrors,
    };
  }

  /**
   * Node reports a failed accept(2) as a server 'error' and keeps listening. On Linux libuv first tries its
   * EMFILE trick (accept with a reserved fd and close, until the backlog is empty) and then reports nothing,
   * so this path is for what remains (ENFILE with no reserve, other errnos); either way the process lives. Node cannot stop polling a listening socket short of
   * closing it (which would reset the backlog and lose a port-0 port), so "pausing" here means shedding:
   * for `DEFAULT_ACCEPT_PAUSE_MS` new clients are closed at once, before a backend socket is attempted,
   * which lets fds drain instead of failing every backend connect with EMFILE too.
   */
  #onServerError(err: NodeJS.ErrnoException): void {
    if (!this.server.listening) return; // bind errors go to listen()'s promise
    this.acceptErrors += 1;
    const code = err.code ?? err.message;
    if (code === 'EMFILE' || code === 'ENFILE') this.#shedUntil = Date.now() + DEFAULT_ACCEPT_PAUSE_MS;
    this.#env.emit('accept-error', {
      listener: this.config.name,
      error: code,
      pausedMs: code === 'EMFILE' || code === 'ENFILE' ? DEFAULT_ACCEPT_PAUSE_MS : 0,
    });
  }

  #accept(socket: Socket): void {
    if (this.#shedUntil > 0 && Date.now() < this.#shedUntil) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.total += 1;
    this.active += 1;
    const onClose = () => {
      this.active -= 1;
    };
    const pool = this.#env.pool(this.config.pool);
    if (this.config.mode === 'director') {
      socket.once('close', onClose);
      this.#direct(socket, pool);
      return;
    }
    const session = new ProxySession(socket, {
      listener: this.config,
      pool,
      maxHeldBytes: this.#env.maxHeldBytes(),
      emit: this.#env.emit,
      done: (s) => this.#env.sessions.delete(s),
    });
    session.client.once('close', onClose);
    if (session.phase !== 'done') this.#env.sessions.add(session);
  }

  #direct(socket: Socket, pool: Pool): void {
    const started = performance.now();
    const clientAddress = unmapIPv4(socket.remoteAddress ?? '');
    const clientPort = socket.remotePort ?? 0;
    let error: string | undefined;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    // The client may send a request line; we answer without reading it, and must not stall on it.
    socket.resume();
    const r = pool.pick(
      { clientAddress, clientPort, listener: this.config.name, pool: pool.name, attempt: 0 },
      undefined,
    );
    let line = '';
    if (r.kind === 'backend') {
      r.backend.directed += 1;
      line = `${formatHostPort(r.backend.host, r.backend.port)}\n`;
    }
    socket.end(line);
    // allowHalfOpen: we sent FIN; a client that never sends its own must not keep the fd.
    const fin = this.config.timeouts.clientFin;
    if (fin > 0) socket.setTimeout(fin, () => socket.destroy());
    socket.once('close', () => {
      this.#env.emit('connection-end', {
        listener: this.config.name,
        pool: pool.name,
        clientAddress,
        clientPort,
        backend: r.kind === 'backend' ? r.backend.id : undefined,
        bytesIn: socket.bytesRead,
        bytesOut: line.length,
        durationMs: performance.now() - started,
        closedBy: 'balancer',
        reason: error !== undefined ? 'error' : r.kind === 'backend' ? 'end' : 'IOLAB_BALANCER_NO_BACKEND',
        ...(error !== undefined ? { error } : {}),
        attempts: 0,
      });
    });
  }
}

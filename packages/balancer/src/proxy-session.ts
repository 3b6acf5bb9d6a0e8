/**
 * One proxied client connection: (optional PROXY header) → pick → (queue) → connect with retries → copy
 * bytes both ways → both sides closed → one `connection-end` event.
 *
 * ```
 *   client ──data──▶ [held while connecting, ≤ maxHeldBytes, then client paused] ──▶ backend
 *   client ◀─────────────────────────────────────────────────────────────data── backend
 *   FIN from either side is passed on with end(); the other direction keeps flowing (half-close).
 * ```
 *
 * Why a manual copy loop and not `pipe()`/`stream.pipeline()`: the manual form is all of what pipe does that
 * we need (write, stop reading on `false`, resume on `drain`) plus what neither gives — per-direction byte
 * counts, who sent FIN first, and half-close: `pipeline` tears both sockets down at the first `end`, which
 * cuts the reply to a client that half-closed after its request.
 *
 * Why `onread` instead of 'data' events (both directions): a CPU profile of HTTP keep-alive traffic put
 * ~15 % of the proxy's time in the Readable layers between read and write plus a fresh 64 KiB slab per
 * read; with `onread` each socket reads into a buffer the session reuses (2 KiB, 16 KiB once filled) and the callback writes the
 * slice straight on. In interleaved A/B runs (wrk, 50 keep-alive connections, proxy pinned to one core on the
 * shared 2-core box) proxy CPU per request fell 14–27 %, to within ~15 % of a bare `onread` proxy with no
 * logic at all; what remains is Node's per-write path (Writable, WriteWrap, the syscall). Idle timers stay
 * Node's per-socket ones: running with no idle timer at all measured the same (41.8 vs 41.5 µs/request), so
 * a coarse sweep would buy nothing measurable.
 */

import { connect, type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import type { Backend } from './backend.js';
import type { BalancerEvents, ClosedBy, ConnectionEndEvent } from './balancer-api.js';
import type { ResolvedListener } from './config.js';
import { BalancerError, type BalancerErrorCode } from './errors.js';
import type { PickContext } from './policy.js';
import type { Pool, QueueWaiter } from './pool.js';
import { parseProxyHeader } from './proxy-protocol/detect.js';
import { unmapIPv4 } from './proxy-protocol/header.js';
import { encodeProxyV1 } from './proxy-protocol/v1.js';
import { encodeProxyV2 } from './proxy-protocol/v2.js';

export interface SessionEnv {
  listener: ResolvedListener;
  pool: Pool;
  maxHeldBytes: number;
  emit<K extends keyof BalancerEvents>(event: K, payload: BalancerEvents[K]): void;
  done(session: ProxySession): void;
}

type Phase = 'header' | 'picking' | 'queued' | 'connecting' | 'forwarding' | 'done';

/**
 * Largest reusable read buffer per socket, two per session (client side, backend side), held for the
 * session's life. 16 KiB is HAProxy's `tune.bufsize`: a request or reply of a few KiB fits one read, and
 * bulk transfers take reads of 16 KiB instead of Node's 64 KiB.
 */
const READ_BUFFER_BYTES = 16 * 1024;
/**
 * A socket's first read buffer; it grows to {@link READ_BUFFER_BYTES} the first time a read fills it. Keeps
 * a session that only ever moves small messages (or sits idle) at 2 × 2 KiB instead of 2 × 16 KiB: 40 MiB
 * rather than 320 MiB for 10 000 of them.
 */
const READ_BUFFER_FIRST_BYTES = 2 * 1024;

/**
 * One socket's reusable `onread` buffer. Node asks for the next buffer after every read ({@link next});
 * {@link used} says whether the bytes just read may still be referenced by a write that did not complete
 * synchronously (libuv queued it because the kernel send buffer was full, or earlier bytes were queued) —
 * then that buffer stays with the write and the next read gets a fresh one, so reuse never corrupts bytes
 * in flight.
 */
class ReadBuffer {
  #buf: Buffer | undefined;
  #size = READ_BUFFER_FIRST_BYTES;

  next = (): Buffer => {
    this.#buf ??= Buffer.allocUnsafe(this.#size);
    return this.#buf;
  };

  used(n: number, held: boolean): void {
    if (n === this.#size && this.#size < READ_BUFFER_BYTES) {
      this.#size = READ_BUFFER_BYTES;
      this.#buf = undefined;
    } else if (held) this.#buf = undefined;
  }
}

/** Errors that mean "the peer went away", reported as `reset` rather than `error`. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** Our own fd exhaustion: not the backend's fault, so no passive-health strike and no retry. */
const FD_CODES = new Set(['EMFILE', 'ENFILE']);

/**
 * Moves an accepted socket's TCP handle into a new socket that reads through `onread`, because
 * `net.Server` has no `onread` option (only `net.connect` / `new Socket` do). Uses two undocumented but
 * long-standing parts of Node (`_handle`, and the `handle` constructor option that `net.Server` itself
 * uses for every accepted socket); if either is missing, returns `undefined` and the caller keeps the
 * accepted socket with ordinary 'data' events. The husk is destroyed without a handle: it closes nothing,
 * and its server's connection count drops as it would have on close.
 */
function adoptWithOnread(accepted: Socket, onread: OnReadOpts): Socket | undefined {
  const husk = accepted as unknown as { _handle: unknown };
  const handle = husk._handle;
  if (handle === null || typeof handle !== 'object' || accepted.destroyed) return undefined;
  husk._handle = null;
  // `handle` is not in SocketConstructorOpts' types (it is how net.Server builds accepted sockets).
  const opts = { handle, allowHalfOpen: true, onread } as SocketConstructorOpts;
  const adopted = new Socket(opts);
  accepted.destroy();
  return adopted;
}

export class ProxySession implements QueueWaiter {
  readonly client: Socket;
  #env: SessionEnv;
  #phase: Phase = 'picking';
  #started = performance.now();
  #clientAddress: string;
  #clientPort: number;
  #destAddress: string;
  #destPort: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #headerBuf: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queuedAt = 0;
  #tried: Set<Backend> | undefined;
  #attempts = 0;
  #backend: Backend | undefined;
  /** The backend whose `active` slot this session holds. */
  #slot: Backend | undefined;
  #sock: Socket | undefined;
  #clientEnded = false;
  #backendEnded = false;
  #clientClosed = false;
  #backendClosed = true;
  #closedBy: ClosedBy | undefined;
  #reason: ConnectionEndEvent['reason'] | undefined;
  #error: string | undefined;
  #bytesIn = 0;
  #bytesOut = 0;
  #clientReadBuf = new ReadBuffer();
  #backendReadBuf = new ReadBuffer();
  /** Connected, and the backend has sent nothing yet (what `timeouts.firstByte` watches). */
  #awaitingFirstByte = false;
  #fbTimer: NodeJS.Timeout | undefined;
  /**
   * Copies of the client bytes sent to this backend before its first byte, kept only with the pool's
   * `retryOnFirstByteTimeout` and only up to `maxHeldBytes` (past that, no replay: `undefined`).
   */
  #replay: Buffer[] | undefined;
  #replayBytes = 0;

  /**
   * `accepted` is the socket the server handed over, ideally still paused (`pauseOnConnect`): its TCP handle
   * is moved into a socket reading through `onread` ({@link adoptWithOnread}), which becomes `client`.
   */
  constructor(accepted: Socket, env: SessionEnv) {
    const adopted = adoptWithOnread(accepted, {
      buffer: this.#clientReadBuf.next,
      callback: this.#onClientRead,
    });
    const client = adopted ?? accepted;
    this.client = client;
    this.#env = env;
    this.#clientAddress = unmapIPv4(client.remoteAddress ?? '');
    this.#clientPort = client.remotePort ?? 0;
    this.#destAddress = unmapIPv4(client.localAddress ?? '');
    this.#destPort = client.localPort ?? 0;
    client.setNoDelay(true);
    client.on('error', (err: NodeJS.ErrnoException) => this.#onClientError(err));
    client.on('close', () => this.#onClientClose());
    client.on('end', () => this.#onClientEnd());
    if (adopted === undefined) {
      client.on('data', (chunk: Buffer) => this.#onClientData(chunk));
      client.resume();
    }
    client.on('drain', () => this.#sock?.resume());
    client.on('timeout', () => this.#onIdle());
    if (env.listener.acceptProxyProtocol) {
      this.#phase = 'header';
      const t = env.listener.timeouts.proxyHeader;
      if (t > 0) this.#timer = setTimeout(() => this.#fail('IOLAB_BALANCER_PROXY_HEADER_TIMEOUT'), t);
    } else {
      this.#pick();
    }
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** Balancer shutdown after the close deadline. */
  shutdown(): void {
    this.#closedBy ??= 'balancer';
    this.#reason ??= 'shutdown';
    this.#abort(false);
  }

  // --- client side ----------------------------------------------------------------------------------

  /** Client → backend copy through `onread`; the mirror of {@link #onBackendRead}. */
  #onClientRead = (n: number, buf: Uint8Array): boolean => {
    const view = (buf as Buffer).subarray(0, n);
    if (this.#phase === 'forwarding') {
      this.#bytesIn += n;
      this.#backend!.bytesIn += n;
      if (this.#awaitingFirstByte) this.#sentBeforeFirstByte(view);
      const sock = this.#sock!;
      const ok = sock.write(view);
      this.#clientReadBuf.used(n, sock.writableLength > 0);
      return ok;
    }
    if (this.#phase === 'done') return false;
    // Header parsing and holding keep the bytes beyond this call: copy them out of the reused buffer.
    this.#onClientData(Buffer.from(view));
    this.#clientReadBuf.used(n, false);
    return true;
  };

  #onClientData(chunk: Buffer): void {
    if (this.#phase === 'forwarding') {
      this.#bytesIn += chunk.length;
      this.#backend!.bytesIn += chunk.length;
      if (this.#awaitingFirstByte) this.#sentBeforeFirstByte(chunk);
      if (!this.#sock!.write(chunk)) this.client.pause();
      return;
    }
    if (this.#phase === 'header') {
      this.#onHeaderBytes(chunk);
      return;
    }
    if (this.#phase === 'done') return;
    this.#hold(chunk);
  }

  #hold(chunk: Buffer): void {
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    // Backpressure instead of an error: the client just waits until the backend connection exists.
    if (this.#heldBytes >= this.#env.maxHeldBytes) this.client.pause();
  }

  #onHeaderBytes(chunk: Buffer): void {
    const buf = this.#headerBuf === undefined ? chunk : Buffer.concat([this.#headerBuf, chunk]);
    let r: ReturnType<typeof parseProxyHeader>;
    try {
      r = parseProxyHeader(buf);
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
      this.#fail(err instanceof BalancerError ? err.code : 'IOLAB_BALANCER_PROXY_HEADER_INVALID');
      return;
    }
    if (!r.done) {
      this.#headerBuf = buf;
      return;
    }
    this.#headerBuf = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const h = r.header;
    if (h.command === 'proxy' && h.source !== undefined && h.destination !== undefined) {
      this.#clientAddress = h.source.address;
      this.#clientPort = h.source.port;
      this.#destAddress = h.destination.address;
      this.#destPort = h.destination.port;
    }
    this.#phase = 'picking';
    if (r.length < buf.length) this.#hold(buf.subarray(r.length));
    // A FIN already seen after the header is replayed to the backend once connected.
    this.#pick();
  }

  #onClientEnd(): void {
    this.#clientEnded = true;
    this.#closedBy ??= 'client';
    if (this.#phase === 'forwarding') {
      this.#sock!.end();
      this.#halfClosed();
    } else if (this.#phase === 'header') {
      this.#reason ??= 'end';
      this.#abort(false);
    }
    // picking/queued/connecting: remembered, replayed once connected.
  }

  #onClientError(err: NodeJS.ErrnoException): void {
    this.#closedBy ??= 'client';
    const code = err.code ?? err.message;
    this.#reason ??= RESET_CODES.has(code) ? 'reset' : 'error';
    this.#error ??= code;
    // 'close' follows 'error'; the backend side is torn down there.
  }

  #onClientClose(): void {
    this.#clientClosed = true;
    if (this.#phase !== 'forwarding') {
      // Gone while waiting in the queue or connecting: nobody to forward for.
      this.#closedBy ??= 'client';
      this.#reason ??= 'end';
      this.#abort(true);
      return;
    }
    if (!(this.#clientEnded && this.#backendEnded) && this.#sock !== undefined && !this.#sock.destroyed) {
      this.#destroySock(this.#sock, this.#reason === 'reset');
    }
    this.#maybeDone();
  }

  #onIdle(): void {
    const half = this.#clientEnded || this.#backendEnded;
    this.#closedBy ??= 'balancer';
    this.#reason ??= half ? 'IOLAB_BALANCER_CLIENT_FIN_TIMEOUT' : 'IOLAB_BALANCER_IDLE_TIMEOUT';
    this.#abort(false);
  }

  #halfClosed(): void {
    const t = this.#env.listener.timeouts.clientFin;
    if (t > 0) this.client.setTimeout(t);
  }

  // --- picking, queueing, connecting ------------------------------------------------------------------

  #ctx(): PickContext {
    return {
      clientAddress: this.#clientAddress,
      clientPort: this.#clientPort,
      listener: this.#env.listener.name,
      pool: this.#env.pool.name,
      attempt: this.#attempts,
    };
  }

  #pick(): void {
    const pool = this.#env.pool;
    const r = pool.pick(this.#ctx(), this.#tried);
    if (r.kind === 'backend') {
      this.#connect(r.backend);
      return;
    }
    if (r.kind === 'saturated') {
      this.#enqueue();
      return;
    }
    this.#error ??= r.detail;
    this.#fail(this.#attempts > 0 ? this.#lastConnectCode : 'IOLAB_BALANCER_NO_BACKEND');
  }

  #lastConnectCode: BalancerErrorCode = 'IOLAB_BALANCER_NO_BACKEND';

  /** QueueWaiter: called by the pool when a slot may have freed. */
  retry(): boolean {
    if (this.#phase !== 'queued') return true;
    const r = this.#env.pool.pick(this.#ctx(), this.#tried);
    if (r.kind === 'saturated') return false;
    this.#dequeue('dequeued');
    if (r.kind === 'backend') this.#connect(r.backend);
    else {
      this.#error ??= r.detail;
      this.#fail('IOLAB_BALANCER_NO_BACKEND');
    }
    return true;
  }

  #enqueue(): void {
    const pool = this.#env.pool;
    if (pool.queue.length >= pool.config.maxQueue) {
      this.#queueEvent('full', 0);
      this.#fail('IOLAB_BALANCER_QUEUE_FULL');
      return;
    }
    this.#phase = 'queued';
    this.#queuedAt = performance.now();
    pool.queue.push(this);
    this.#queueEvent('enqueued', 0);
    const t = this.#env.listener.timeouts.queue;
    if (t > 0) {
      this.#timer = setTimeout(() => {
        this.#dequeue('timeout');
        this.#fail('IOLAB_BALANCER_QUEUE_TIMEOUT');
      }, t);
    }
  }

  #dequeue(action: 'dequeued' | 'timeout'): void {
    const q = this.#env.pool.queue;
    const i = q.indexOf(this);
    if (i >= 0) q.splice(i, 1);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#phase = 'picking';
    this.#queueEvent(action, performance.now() - this.#queuedAt);
  }

  #queueEvent(action: 'enqueued' | 'dequeued' | 'timeout' | 'full', waitedMs: number): void {
    this.#env.emit('queue', {
      pool: this.#env.pool.name,
      listener: this.#env.listener.name,
      clientAddress: this.#clientAddress,
      action,
      queued: this.#env.pool.queue.length,
      waitedMs,
    });
  }

  #connect(b: Backend): void {
    this.#phase = 'connecting';
    this.#attempts += 1;
    (this.#tried ??= new Set()).add(b);
    b.active += 1;
    this.#slot = b;
    this.#backend = b;
    // Backend → client bytes arrive through `onread` (see #onBackendRead), not 'data' events.
    const sock = connect({
      host: b.host,
      port: b.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: this.#backendReadBuf.next, callback: this.#onBackendRead },
    });
    this.#sock = sock;
    this.#backendClosed = false;
    const t = this.#env.listener.timeouts.connect;
    if (t > 0) {
      this.#timer = setTimeout(
        () => this.#connectFailed(b, sock, 'IOLAB_BALANCER_CONNECT_TIMEOUT', 'timeout'),
        t,
      );
    }
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#sock !== sock) return;
      if (this.#phase === 'connecting')
        this.#connectFailed(b, sock, 'IOLAB_BALANCER_CONNECT_FAILED', err.code);
      else this.#onBackendError(err);
    });
    sock.once('connect', () => this.#onConnected(b, sock));
  }

  #connectFailed(
    b: Backend,
    sock: Socket,
    code: 'IOLAB_BALANCER_CONNECT_FAILED' | 'IOLAB_BALANCER_CONNECT_TIMEOUT',
    errCode: string | undefined,
  ): void {
    if (this.#sock !== sock || this.#phase !== 'connecting') return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sock = undefined;
    this.#backendClosed = true;
    sock.destroy();
    const pool = this.#env.pool;
    this.#slot = undefined;
    this.#backend = undefined;
    const ownFault = errCode !== undefined && FD_CODES.has(errCode);
    if (!ownFault) pool.connectFailed(b, errCode ?? code);
    const willRetry = !ownFault && this.#attempts <= pool.config.retries;
    this.#env.emit('connect-error', {
      listener: this.#env.listener.name,
      pool: pool.name,
      backend: b.id,
      clientAddress: this.#clientAddress,
      attempt: this.#attempts,
      code,
      error: errCode,
      willRetry,
    });
    this.#lastConnectCode = code;
    this.#error = errCode ?? code;
    // Release after the failure is recorded, so a queued connection does not get this backend's slot first.
    pool.release(b);
    this.#phase = 'picking';
    if (willRetry) this.#pick();
    else this.#fail(code);
  }

  #onConnected(b: Backend, sock: Socket): void {
    if (this.#sock !== sock || this.#phase !== 'connecting') return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#env.pool.connectSucceeded(b);
    b.total += 1;
    this.#phase = 'forwarding';
    this.#error = undefined;
    // With onread, 'end' is only emitted by a flowing stream; resume() makes it flow (no 'data' listener).
    sock.resume();
    // Guards: after a first-byte-timeout replay this socket is abandoned, and its late events are not ours.
    sock.on('drain', () => {
      if (this.#sock === sock) this.client.resume();
    });
    sock.on('end', () => {
      if (this.#sock !== sock) return;
      this.#gotFirstByte(b); // a FIN is an answer too: the backend is alive
      this.#backendEnded = true;
      this.#closedBy ??= 'backend';
      if (!this.client.destroyed) this.client.end();
      this.#halfClosed();
    });
    sock.on('close', () => {
      if (this.#sock === sock) this.#onBackendClose();
    });

    sock.cork();
    const pp = b.config.proxyProtocol;
    if (pp !== undefined) {
      const src = { address: this.#clientAddress, port: this.#clientPort };
      const dst = { address: this.#destAddress, port: this.#destPort };
      sock.write(pp === 'v1' ? encodeProxyV1(src, dst) : encodeProxyV2(src, dst));
    }
    let flushed = true;
    for (const chunk of this.#held) flushed = sock.write(chunk);
    this.#bytesIn += this.#heldBytes;
    b.bytesIn += this.#heldBytes;
    this.#awaitingFirstByte = true;
    const pool = this.#env.pool;
    if (pool.config.retryOnFirstByteTimeout) {
      // Held chunks are already copies (see #onClientRead), so the replay list can take them as they are.
      this.#replay = this.#held;
      this.#replayBytes = this.#heldBytes;
    }
    if (this.#heldBytes > 0) this.#armFirstByteTimer(b, sock);
    this.#held = [];
    this.#heldBytes = 0;
    if (this.#clientEnded) sock.end();
    sock.uncork();
    const idle = this.#env.listener.timeouts.idle;
    if (this.#clientEnded) this.#halfClosed();
    else if (idle > 0) this.client.setTimeout(idle);
    if (flushed && !this.#clientEnded) this.client.resume();
  }

  /**
   * Backend → client copy, the reply direction. Why `onread` and not 'data': the bytes land in a buffer this
   * session reuses ({@link ReadBuffer}), so a read allocates no 64 KiB slab and no ArrayBuffer (only a view),
   * and skips the Readable push/emit layers; profiling put those at ~15 % of the proxy's CPU. Returning
   * `false` stops reading (backpressure) until the client's 'drain' resumes the socket.
   */
  #onBackendRead = (n: number, buf: Uint8Array): boolean => {
    if (this.#phase !== 'forwarding') return false;
    if (this.#awaitingFirstByte) this.#gotFirstByte(this.#backend!);
    this.#bytesOut += n;
    this.#backend!.bytesOut += n;
    const client = this.client;
    const ok = client.write((buf as Buffer).subarray(0, n));
    this.#backendReadBuf.used(n, client.writableLength > 0);
    return ok;
  };

  #onBackendError(err: NodeJS.ErrnoException): void {
    this.#closedBy ??= 'backend';
    const code = err.code ?? err.message;
    this.#reason ??= RESET_CODES.has(code) ? 'reset' : 'error';
    this.#error ??= code;
  }

  #onBackendClose(): void {
    this.#backendClosed = true;
    if (!(this.#clientEnded && this.#backendEnded) && !this.client.destroyed) {
      this.#destroySock(this.client, this.#reason === 'reset');
    }
    this.#maybeDone();
  }

  // --- first-byte timeout (passive health) -----------------------------------------------------------

  /**
   * The client sent bytes while the backend has said nothing yet: the client now waits for an answer, so the
   * first-byte clock starts (once; it measures the first reply only). Keeps a copy for a replay when enabled.
   */
  #sentBeforeFirstByte(bytes: Buffer): void {
    if (this.#fbTimer === undefined) this.#armFirstByteTimer(this.#backend!, this.#sock!);
    if (this.#replay === undefined) return;
    this.#replayBytes += bytes.length;
    if (this.#replayBytes > this.#env.maxHeldBytes) {
      // More than we are willing to hold: this connection can no longer be replayed safely.
      this.#replay = undefined;
      return;
    }
    this.#replay.push(Buffer.from(bytes)); // `bytes` may be the reused read buffer
  }

  #armFirstByteTimer(b: Backend, sock: Socket): void {
    const t = this.#env.listener.timeouts.firstByte;
    if (t <= 0 || this.#fbTimer !== undefined) return;
    this.#fbTimer = setTimeout(() => this.#onFirstByteTimeout(b, sock, t), t);
  }

  #gotFirstByte(b: Backend): void {
    this.#awaitingFirstByte = false;
    clearTimeout(this.#fbTimer);
    this.#fbTimer = undefined;
    this.#replay = undefined;
    this.#replayBytes = 0;
    this.#env.pool.firstByteReceived(b);
  }

  /**
   * The backend accepted the connection and stayed silent while the client waited (a frozen process: the
   * kernel still completes handshakes). Counts against passive health, then either replays the held client
   * bytes to another backend (opt-in, idempotent protocols only) or closes the client.
   */
  #onFirstByteTimeout(b: Backend, sock: Socket, timeoutMs: number): void {
    this.#fbTimer = undefined;
    if (this.#sock !== sock || this.#phase !== 'forwarding' || !this.#awaitingFirstByte) return;
    this.#awaitingFirstByte = false;
    const pool = this.#env.pool;
    pool.firstByteTimedOut(b, timeoutMs);
    const replay = this.#replay;
    const willRetry = replay !== undefined && this.#attempts <= pool.config.retries;
    this.#env.emit('connect-error', {
      listener: this.#env.listener.name,
      pool: pool.name,
      backend: b.id,
      clientAddress: this.#clientAddress,
      attempt: this.#attempts,
      code: 'IOLAB_BALANCER_FIRST_BYTE_TIMEOUT',
      error: `no first byte within ${timeoutMs} ms`,
      willRetry,
    });
    this.#lastConnectCode = 'IOLAB_BALANCER_FIRST_BYTE_TIMEOUT';
    this.#error = `no first byte within ${timeoutMs} ms from ${b.id}`;
    if (!willRetry) {
      this.#fail('IOLAB_BALANCER_FIRST_BYTE_TIMEOUT');
      return;
    }
    // Abandon this backend socket (its handlers check `#sock`) and go back to picking with the replay held.
    this.#sock = undefined;
    this.#backendClosed = true;
    sock.destroy();
    this.#slot = undefined;
    this.#backend = undefined;
    this.#replay = undefined;
    this.#held = replay;
    this.#heldBytes = this.#replayBytes;
    this.#bytesIn -= this.#replayBytes; // counted again when the replay is flushed
    this.#replayBytes = 0;
    pool.release(b);
    this.#phase = 'picking';
    this.#pick();
  }

  // --- teardown ---------------------------------------------------------------------------------------

  /** Propagate a reset as a reset (RST) so the peer sees the same thing the balancer saw. */
  #destroySock(s: Socket, reset: boolean): void {
    if (reset && typeof s.resetAndDestroy === 'function' && !s.connecting) s.resetAndDestroy();
    else s.destroy();
  }

  #fail(code: BalancerErrorCode): void {
    this.#closedBy ??= 'balancer';
    this.#reason ??= code;
    this.#abort(false);
  }

  /** Tear everything down now. `clientGone`: the client already closed. */
  #abort(clientGone: boolean): void {
    if (this.#phase === 'done') return;
    if (this.#phase === 'queued') this.#dequeue('dequeued');
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#fbTimer);
    this.#fbTimer = undefined;
    const sock = this.#sock;
    if (sock !== undefined && !sock.destroyed) sock.destroy();
    if (this.#phase !== 'forwarding') {
      // Not forwarding: the backend socket (if any) was still connecting and gets no 'close' we wait on.
      this.#backendClosed = true;
    }
    if (!clientGone && !this.client.destroyed) this.client.destroy();
    if (clientGone) this.#clientClosed = true;
    this.#phase = this.#phase === 'forwarding' ? 'forwarding' : 'done';
    if (this.#phase === 'done') this.#finish();
    else this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#phase === 'done' || !this.#clientClosed || !this.#backendClosed) return;
    this.#phase = 'done';
    this.#finish();
  }

  #finish(): void {
    this.#phase = 'done';
    clearTimeout(this.#timer);
    clearTimeout(this.#fbTimer);
    this.#held = [];
    this.#replay = undefined;
    const slot = this.#slot;
    this.#slot = undefined;
    if (slot !== undefined) this.#env.pool.release(slot);
    const e: ConnectionEndEvent = {
      listener: this.#env.listener.name,
      pool: this.#env.pool.name,
      clientAddress: this.#clientAddress,
      clientPort: this.#clientPort,
      backend: this.#backend?.id,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      durationMs: performance.now() - this.#started,
      closedBy: this.#closedBy ?? 'client',
      reason: this.#reason ?? 'end',
      attempts: this.#attempts,
    };
    if (this.#error !== undefined) e.error = this.#error;
    this.#env.emit('connection-end', e);
    this.#env.done(this);
  }
}

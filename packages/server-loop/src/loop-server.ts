/**
 * One thread, one libuv event loop (epoll on Linux), every connection on it, nothing blocking: the shape
 * of HAProxy's or nginx's worker process. Sessions run on the loop; `sleep` is a timer, so a slow
 * downstream delays nobody else, and `cpu` runs inline, so CPU work stalls every connection — that
 * contrast is what this model is for.
 */
import { createSession, runOperation } from '@iolab/protocols';
import {
  type Connection,
  checkIntegerOption,
  ServerBase,
  type ServerOptions,
  serveEvented,
} from '@iolab/server-core';

/**
 * Close a keep-alive connection with nothing in flight after this long without bytes: long enough for a
 * benchmark's idle phase, short enough that abandoned connections do not pile up for ever.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface LoopOptions extends ServerOptions {
  /** Idle keep-alive timeout; 0 disables. */
  readonly idleTimeoutMs?: number;
  /** Run this many loops as `node:cluster` worker processes sharing the listening socket (default 1). */
  readonly workers?: number;
}

export class LoopServer extends ServerBase {
  readonly #idleTimeoutMs: number;

  constructor(options: LoopOptions) {
    super(options);
    this.#idleTimeoutMs = checkIntegerOption(
      'idleTimeoutMs',
      options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      0,
      86_400_000,
    );
  }

  protected override serve(connection: Connection): void {
    const evented = serveEvented(connection.socket, createSession(this.protocol), runOperation, {
      counters: this.counters,
      idleTimeoutMs: this.#idleTimeoutMs,
      onFailure: (code, cause) => this.connectionFailed(connection.id, code, cause),
      failureBytes: this.failureBytes,
    });
    connection.drain = evented.drain;
  }
}

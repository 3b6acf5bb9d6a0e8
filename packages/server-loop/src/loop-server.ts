/**
 * One thread, one libuv event loop (epoll on Linux), every connection on it, nothing blocking: the shape
 * of HAProxy's or nginx's worker process. Sessions run on the loop; `sleep` is a timer, so a slow
 * downstream delays nobody else, and `cpu` runs inline, so CPU work stalls every connection — that
 * contrast is what this model is for.
 */
import { createSession, runOperation } from '@iolab/protocols';
import { type Connection, ServerBase, type ServerOptions, serveEvented } from '@iolab/server-core';

export interface LoopOptions extends ServerOptions {
  /** Run this many loops as `node:cluster` worker processes sharing the listening socket (default 1). */
  readonly workers?: number;
}

export class LoopServer extends ServerBase {
  protected override serve(connection: Connection): void {
    const evented = serveEvented(connection.socket, createSession(this.protocol), runOperation, {
      counters: this.counters,
      timeouts: this.timeouts,
    });
    connection.drain = evented.drain;
  }
}

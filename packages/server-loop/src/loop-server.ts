/**
 * One thread, one libuv event loop (epoll on Linux), every connection on it, nothing blocking: the shape
 * of HAProxy's or nginx's worker process. Sessions run on the loop; `sleep` is a timer, so a slow
 * downstream delays nobody else, and `cpu` runs inline, so CPU work stalls every connection — that
 * contrast is what this model is for.
 */
import {
  createSession,
  type Operation,
  type OperationResult,
  runOperation,
  runOperationSync,
} from '@iolab/protocols';
import { type Connection, ServerBase, type ServerOptions, serveEvented } from '@iolab/server-core';

export interface LoopOptions extends ServerOptions {
  /** Run this many loops as `node:cluster` worker processes sharing the listening socket (default 1). */
  readonly workers?: number;
}

/** Everything but `sleep` (a timer) runs inline: /plaintext, /json, /cpu and /echo need no wait. */
function runNow(op: Operation): OperationResult | undefined {
  return op.kind === 'sleep' ? undefined : runOperationSync(op, neverSleeps);
}

function neverSleeps(): void {
  throw new Error('sleep runs as a timer on the loop');
}

/**
 * What the session answers while it parses (`runWhileParsing`): the operations that cost no more than
 * parsing — fixed bodies and the echo of a body already received — for any route and any pipelining.
 * `cpu` stays on `runNow` so that answers pipelined before it are written before it runs.
 */
function runWhileParsing(op: Operation): OperationResult | undefined {
  return op.kind === 'plaintext' || op.kind === 'json' || op.kind === 'echo'
    ? runOperationSync(op, neverSleeps)
    : undefined;
}

export class LoopServer extends ServerBase {
  protected override serve(connection: Connection): void {
    const evented = serveEvented(connection.socket, createSession(this.protocol), runOperation, {
      counters: this.counters,
      timeouts: this.timeouts,
      runNow,
      runWhileParsing,
      onFailure: (code, cause) => this.connectionFailed(connection.id, code, cause),
      onRejected: (rejection) => this.connectionRejected(connection.id, rejection, true),
      failureBytes: this.failureBytes,
    });
    connection.drain = evented.drain;
  }
}

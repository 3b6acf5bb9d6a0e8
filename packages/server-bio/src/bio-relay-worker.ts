/**
 * A BIO thread on a Node that cannot transfer sockets: the main thread relays its connection's bytes
 * through shared-memory rings, and this thread serves it as straight-line blocking code (`serveBlocking`:
 * `read()` parks in `Atomics.wait`, `/sleep` blocks the thread). Bundled into one file
 * (dist/bio-relay-worker.bundle.js, see build-worker.mjs) with only the relay path's code.
 */
import { blockingSleep, createSession, failureBytes } from '@iolab/protocols';
import { BlockingSocket, serveBlocking } from '@iolab/server-core';
import { runBioThread } from './bio-thread.js';

runBioThread((connection, context) => {
  if (connection.relay !== undefined) {
    // Blocks this thread until the connection ends; drain arrives through the relay buffer.
    serveBlocking(
      createSession(context.protocol),
      new BlockingSocket(connection.relay),
      blockingSleep,
      context.counters,
      context.timeouts,
      connection.acceptedAt,
      { failureBytes: failureBytes(context.protocol), report: context.report, rejected: context.rejected },
    );
  }
  return { done: undefined };
});

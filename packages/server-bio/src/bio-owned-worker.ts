/**
 * A BIO thread that owns its sockets (Node 26.12+ on Unix): the accepting thread transfers each socket
 * here, and this thread reads, parses, runs the handler and writes on its own. Bundled into one file
 * (dist/bio-owned-worker.bundle.js, see build-worker.mjs) with only the owned path's code: start-up is
 * what BIO pays per new thread.
 */
import { createSession, failureBytes } from '@iolab/protocols';
import { ownSocket } from '@iolab/server-core';
import { runBioThread } from './bio-thread.js';

runBioThread((connection, context) => {
  if (connection.socket === undefined) return { done: undefined };
  const owned = ownSocket(connection.socket, createSession(context.protocol), {
    counters: context.counters,
    timeouts: context.timeouts,
    acceptedAt: connection.acceptedAt,
    failureBytes: failureBytes(context.protocol),
    // Counted here in the shared counters; the main thread only logs it.
    onFailure: (code, cause) => {
      context.counters.addErrors();
      context.report(code, cause);
    },
    onRejected: context.rejected,
  });
  return { drain: owned.drain, done: owned.closed };
});

/**
 * The thread of one BIO connection: serve it, then end. Started by `BioServer` with either the socket
 * itself (owned mode) or the connection's relay buffer (relay mode); the thread exits when the
 * connection is done. Built into one file (dist/bio-worker.bundle.js, see build-worker.mjs) so a new
 * thread loads one module instead of resolving two packages' graphs: start-up is what BIO pays per
 * connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { blockingSleep, createSession, failureBytes, type SessionRejection } from '@iolab/protocols';
import {
  BlockingSocket,
  type ConnectionFailureCode,
  describeThrown,
  SharedCounters,
  serveBlocking,
  serveOwned,
} from '@iolab/server-core';
import type { BioFailureMessage, BioRejectedMessage, BioWorkerData } from './bio-server.js';

const data = workerData as BioWorkerData;
const session = createSession(data.protocol);
const counters = new SharedCounters(data.counters);
const failure = failureBytes(data.protocol);
const report = (code: ConnectionFailureCode, cause: unknown): void => {
  // Only the text crosses: an Error's own fields (code) would not survive structured clone anyway.
  const message: BioFailureMessage = { kind: 'failure', code, message: describeThrown(cause) };
  parentPort?.postMessage(message);
};
const rejected = (rejection: SessionRejection): void => {
  // Counted here in the shared counters; the main thread only logs it.
  const message: BioRejectedMessage = { kind: 'rejected', rejection };
  parentPort?.postMessage(message);
};
if (data.socket !== undefined) {
  void serveOwned(
    data.socket,
    session,
    {
      counters,
      timeouts: data.timeouts,
      acceptedAt: data.acceptedAt,
      failureBytes: failure,
      // Counted here in the shared counters; the main thread only logs it.
      onFailure: (code, cause) => {
        counters.addErrors();
        report(code, cause);
      },
      onRejected: rejected,
    },
    parentPort ?? undefined,
  );
} else if (data.relay !== undefined) {
  serveBlocking(
    session,
    new BlockingSocket(data.relay),
    blockingSleep,
    counters,
    data.timeouts,
    data.acceptedAt,
    { failureBytes: failure, report, rejected },
  );
}

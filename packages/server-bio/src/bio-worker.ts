/**
 * The thread of one BIO connection: serve it with blocking code, then end. Started by `BioServer` with
 * the connection's relay buffer; the thread exits when `serveBlocking` returns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { blockingSleep, createSession, failureBytes } from '@iolab/protocols';
import { BlockingSocket, describeThrown, SharedCounters, serveBlocking } from '@iolab/server-core';
import type { BioFailureMessage, BioWorkerData } from './bio-server.js';

const data = workerData as BioWorkerData;
serveBlocking(
  createSession(data.protocol),
  new BlockingSocket(data.relay),
  blockingSleep,
  new SharedCounters(data.counters),
  {
    failureBytes: failureBytes(data.protocol),
    report: (code, cause) => {
      // Only the text crosses: an Error's own fields (code) would not survive structured clone anyway.
      const message: BioFailureMessage = { kind: 'failure', code, message: describeThrown(cause) };
      parentPort?.postMessage(message);
    },
  },
);

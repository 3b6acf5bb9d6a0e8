/**
 * The thread of one BIO connection: serve it with blocking code, then end. Started by `BioServer` with
 * the connection's relay buffer; the thread exits when `serveBlocking` returns.
 */
import { workerData } from 'node:worker_threads';
import { blockingSleep, createSession } from '@iolab/protocols';
import { BlockingSocket, SharedCounters, serveBlocking } from '@iolab/server-core';
import type { BioWorkerData } from './bio-server.js';

const data = workerData as BioWorkerData;
serveBlocking(
  createSession(data.protocol),
  new BlockingSocket(data.relay),
  blockingSleep,
  new SharedCounters(data.counters),
  data.timeouts,
  data.acceptedAt,
);

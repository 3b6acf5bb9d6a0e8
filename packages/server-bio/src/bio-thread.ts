/**
 * The life of one BIO thread, shared by both socket modes: serve the connection it was started with,
 * then either end (`threadKeepAliveMs` 0) or say "idle" and wait for the accepting thread to hand it the
 * next connection — Java's `Executors.newCachedThreadPool()` worker, which polls its queue for up to the
 * keep-alive before it ends. The keep-alive clock lives on the accepting thread, the only one that hands
 * out connections, so a connection can never be sent to a thread that has just decided to end.
 *
 * Each connection gets a new session and new read deadlines (from its own accept time); only the
 * server-wide counters are shared.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ProtocolName, SessionRejection } from '@iolab/protocols';
import {
  type ConnectionFailureCode,
  describeThrown,
  type ReadTimeouts,
  SharedCounters,
} from '@iolab/server-core';
import type {
  BioFailureMessage,
  BioIdleMessage,
  BioRejectedMessage,
  BioThreadCommand,
  BioThreadConnection,
  BioWorkerData,
} from './bio-thread-messages.js';

/** What a socket mode's thread entry gets to serve one connection with. */
export interface BioThreadContext {
  readonly protocol: ProtocolName;
  readonly counters: SharedCounters;
  readonly timeouts: ReadTimeouts;
  /** Logs a failure on the main thread (the caller has counted it). */
  report(code: ConnectionFailureCode, cause: unknown): void;
  /** Logs a refusal of the peer's input on the main thread (the caller has counted it). */
  rejected(rejection: SessionRejection): void;
}

/** Serves one connection; resolves (or returns) when it is closed. `drain` is set while it runs. */
export type ServeOne = (connection: BioThreadConnection, context: BioThreadContext) => ServedConnection;

export interface ServedConnection {
  /** Owned mode: 'drain' from the main thread (relay mode drains through the relay buffer instead). */
  readonly drain?: () => void;
  readonly done: Promise<void> | undefined;
}

export function runBioThread(serveOne: ServeOne): void {
  const port = parentPort;
  if (port === null) throw new Error('a BIO thread entry runs in a worker thread');
  const data = workerData as BioWorkerData;
  const context: BioThreadContext = {
    protocol: data.protocol,
    counters: new SharedCounters(data.counters),
    timeouts: data.timeouts,
    report: (code, cause) => {
      // Only the text crosses: an Error's own fields (code) would not survive structured clone anyway.
      const message: BioFailureMessage = { kind: 'failure', code, message: describeThrown(cause) };
      port.postMessage(message);
    },
    rejected: (rejection) => {
      const message: BioRejectedMessage = { kind: 'rejected', rejection };
      port.postMessage(message);
    },
  };
  let current: ServedConnection | undefined;
  const finished = (): void => {
    current = undefined;
    if (data.exitWhenDone) {
      port.close(); // nothing else holds this thread's loop: it ends
      return;
    }
    const idle: BioIdleMessage = { kind: 'idle' };
    port.postMessage(idle);
  };
  const serve = (connection: BioThreadConnection): void => {
    const served = serveOne(connection, context);
    if (served.done === undefined) {
      finished();
      return;
    }
    current = served;
    served.done.then(finished, finished);
  };
  port.on('message', (command: BioThreadCommand) => {
    if (command === 'drain') current?.drain?.();
    else if (command === 'exit') port.close();
    else if (command?.kind === 'connection') serve(command);
  });
  serve(data.first);
}

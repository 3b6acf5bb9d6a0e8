/**
 * The piscina task function, run on pool threads. Synchronous on purpose: a connection task parks this
 * thread in `Atomics.wait` between requests and a sleep blocks it, exactly like a Java pool thread doing
 * blocking socket I/O.
 */
import { blockingSleep, createSession, type OperationResult, runOperationSync } from '@iolab/protocols';
import { BlockingSocket, SharedCounters, serveBlocking, serveOwned } from '@iolab/server-core';
import { ownedCopy, type PoolTask } from './pool-task.js';

export default function runTask(task: PoolTask): OperationResult | null | Promise<null> {
  if (task.kind === 'owned-connection') {
    // The task lasts as long as the connection: the thread is held, as in relay mode, but it reads and
    // writes its socket itself.
    const counters = new SharedCounters(task.counters);
    const options = { counters, timeouts: task.timeouts, acceptedAt: task.acceptedAt };
    return serveOwned(task.socket, createSession(task.protocol), options, task.control).then(() => null);
  }
  if (task.kind === 'connection') {
    serveBlocking(
      createSession(task.protocol),
      new BlockingSocket(task.relay),
      blockingSleep,
      new SharedCounters(task.counters),
      task.timeouts,
      task.acceptedAt,
    );
    return null;
  }
  const result = runOperationSync(task.op, blockingSleep);
  if (!result.ok) return result;
  // piscina can only transfer a top-level return value; a body that owns its buffer is cloned with exactly
  // its own bytes (one copy), where a view into a larger buffer would clone the whole buffer.
  return { ok: true, contentType: result.contentType, body: ownedCopy(result.body) };
}

/**
 * The piscina task function, run on pool threads. Synchronous on purpose: a connection task parks this
 * thread in `Atomics.wait` between requests and a sleep blocks it, exactly like a Java pool thread doing
 * blocking socket I/O.
 */
import {
  blockingSleep,
  createSession,
  failureBytes,
  type OperationResult,
  runOperationSync,
  type SessionRejection,
} from '@iolab/protocols';
import {
  BlockingSocket,
  type ConnectionFailureCode,
  describeThrown,
  SharedCounters,
  serveBlocking,
  serveOwned,
} from '@iolab/server-core';
import {
  type ConnectionTaskResult,
  cloneableCopy,
  MAX_REPORTED_FAILURES,
  type PoolTask,
} from './pool-task.js';

export default function runTask(
  task: PoolTask,
): OperationResult | ConnectionTaskResult | Promise<ConnectionTaskResult> {
  if (task.kind === 'operation') {
    // A throw here rejects the task on the main thread, which answers 500 and closes that connection.
    const result = runOperationSync(task.op, blockingSleep);
    if (!result.ok) return result;
    // piscina clones the return value (it transfers only a top-level `Piscina.move`): a body that owns its
    // buffer is cloned with exactly its own bytes, where a view into a larger buffer would clone all of it.
    return { ok: true, contentType: result.contentType, body: cloneableCopy(result.body) };
  }
  const failures: ConnectionTaskResult['failures'][number][] = [];
  let rejected: SessionRejection | undefined;
  const onRejected = (rejection: SessionRejection): void => {
    rejected = rejection;
  };
  const counters = new SharedCounters(task.counters);
  const report = (code: ConnectionFailureCode, cause: unknown): void => {
    if (failures.length < MAX_REPORTED_FAILURES) failures.push({ code, message: describeThrown(cause) });
  };
  if (task.kind === 'owned-connection') {
    // The task lasts as long as the connection: the thread is held, as in relay mode, but it reads and
    // writes its socket itself. Failures are contained as in relay mode: 500/close, counted here, logged by
    // the main thread from the task's result.
    return serveOwned(
      task.socket,
      createSession(task.protocol),
      {
        counters,
        timeouts: task.timeouts,
        acceptedAt: task.acceptedAt,
        failureBytes: failureBytes(task.protocol),
        onFailure: (code, cause) => {
          counters.addErrors();
          report(code, cause);
        },
        onRejected,
      },
      task.control,
    ).then(() => ({ failures, ...(rejected && { rejected }) }));
  }
  // Relay connection mode.
  serveBlocking(
    createSession(task.protocol),
    new BlockingSocket(task.relay),
    blockingSleep,
    counters,
    task.timeouts,
    task.acceptedAt,
    { failureBytes: failureBytes(task.protocol), report, rejected: onRejected },
  );
  return { failures, ...(rejected && { rejected }) };
}

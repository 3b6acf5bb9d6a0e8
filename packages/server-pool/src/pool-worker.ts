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
} from '@iolab/protocols';
import { BlockingSocket, describeThrown, SharedCounters, serveBlocking } from '@iolab/server-core';
import {
  type ConnectionTaskResult,
  cloneableCopy,
  MAX_REPORTED_FAILURES,
  type PoolTask,
} from './pool-task.js';

export default function runTask(task: PoolTask): OperationResult | ConnectionTaskResult {
  if (task.kind === 'connection') {
    const failures: ConnectionTaskResult['failures'][number][] = [];
    serveBlocking(
      createSession(task.protocol),
      new BlockingSocket(task.relay),
      blockingSleep,
      new SharedCounters(task.counters),
      {
        failureBytes: failureBytes(task.protocol),
        report: (code, cause) => {
          if (failures.length < MAX_REPORTED_FAILURES)
            failures.push({ code, message: describeThrown(cause) });
        },
      },
    );
    return { failures };
  }
  // A throw here rejects the task on the main thread, which answers 500 and closes that connection.
  const result = runOperationSync(task.op, blockingSleep);
  if (!result.ok) return result;
  // piscina clones the return value (it transfers only a top-level `Piscina.move`): a body that owns its
  // buffer is cloned with exactly its own bytes, where a view into a larger buffer would clone all of it.
  return { ok: true, contentType: result.contentType, body: cloneableCopy(result.body) };
}

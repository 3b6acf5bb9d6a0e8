/**
 * The blocking handler loop shared by `bio` and pool connection mode: one thread, one connection,
 * straight-line code — read, hand bytes to the session, run each operation to completion on this thread,
 * write, repeat — the shape of a `while ((line = in.readLine()) != null)` Java BIO handler.
 */
import {
  type Operation,
  type OperationResult,
  runOperationSync,
  type ServerSession,
  type SessionOutput,
} from '@iolab/protocols';
import type { BlockingIo } from './blocking-socket.js';
import { RelayClosedError } from './errors.js';
import { expireDeadline, ReadDeadline, type ReadTimeouts } from './read-deadline.js';
import type { SharedCounters } from './shared-counters.js';

/** How the loop ended, for tests and logs. */
export type BlockingEnd = 'closed' | 'eof' | 'drain' | 'abort' | 'timeout';

const NO_TIMEOUTS: ReadTimeouts = { headerTimeoutMs: 0, idleTimeoutMs: 0 };

/**
 * Serves one connection until the session closes it, the peer ends it, the server drains or the
 * connection is aborted. Every operation runs inline with `runOperationSync`; `sleepSync` really blocks
 * this thread (that is the BIO model: a slow downstream holds the thread).
 *
 * Each `read()` carries the connection's current deadline (`ReadDeadline`): Java's `SO_TIMEOUT`, except
 * that the header deadline is absolute, so a client trickling one byte at a time cannot extend it.
 */
export function serveBlocking(
  session: ServerSession,
  io: BlockingIo,
  sleepSync: (ms: number) => void,
  counters?: SharedCounters,
  timeouts: ReadTimeouts = NO_TIMEOUTS,
  acceptedAt?: number,
): BlockingEnd {
  const deadline = new ReadDeadline(timeouts, acceptedAt);
  try {
    for (;;) {
      const input = io.read(deadline.remaining());
      if (input === 'abort') return 'abort';
      if (input === 'timeout') {
        const kind = deadline.kind;
        if (kind === 'busy' || deadline.remaining() > 0) continue; // woke a hair early: wait out the rest
        settle(session, expireDeadline(session, kind, counters), io, sleepSync, counters);
        io.close();
        return 'timeout';
      }
      if (input === 'drain') {
        // Between requests (the previous one was answered before we read): nothing in flight to lose.
        io.close();
        return 'drain';
      }
      const output = input === 'eof' ? session.peerEnded() : session.receive(input);
      if (settle(session, output, io, sleepSync, counters)) {
        io.close();
        return 'closed';
      }
      deadline.update(session, input !== 'eof');
      if (input === 'eof') {
        // FIN received and everything answered; peerEnded() normally asks to close, this is the backstop.
        io.close();
        return 'eof';
      }
    }
  } catch (err) {
    if (err instanceof RelayClosedError) return 'abort';
    throw err;
  }
}

/**
 * Writes what an output sends, then runs its work one by one, settling each completion at once so an
 * answer leaves as soon as it exists. True when the session asked to close. Recursion depth is bounded
 * by the session's pipeline cap: a completion only carries new work when parsing resumes below it.
 */
function settle(
  session: ServerSession,
  output: SessionOutput,
  io: BlockingIo,
  sleepSync: (ms: number) => void,
  counters: SharedCounters | undefined,
): boolean {
  for (const bytes of output.send) io.write(bytes);
  if (output.close) return true; // nothing after a close may reach the peer
  for (const work of output.work) {
    const result = runSafely(work.op, sleepSync, counters);
    counters?.addRequests();
    if (settle(session, session.complete(work.id, result), io, sleepSync, counters)) return true;
  }
  return false;
}

function runSafely(
  op: Operation,
  sleepSync: (ms: number) => void,
  counters: SharedCounters | undefined,
): OperationResult {
  try {
    return runOperationSync(op, sleepSync);
  } catch (err) {
    counters?.addErrors();
    return { ok: false, status: 500, message: err instanceof Error ? err.message : String(err) };
  }
}

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
  type SessionRejection,
} from '@iolab/protocols';
import type { BlockingIo } from './blocking-socket.js';
import { type ConnectionFailureCode, RelayClosedError } from './errors.js';
import { expireDeadline, ReadDeadline, type ReadTimeouts } from './read-deadline.js';
import type { SharedCounters } from './shared-counters.js';

/**
 * How the loop ended, for tests and logs. `timeout`: a header or idle deadline closed it. `failed`: the
 * server failed on this connection and closed it.
 */
export type BlockingEnd = 'closed' | 'eof' | 'drain' | 'abort' | 'timeout' | 'failed';

/** What a thread does when the server fails on its connection; the failure is counted in `counters`. */
export interface BlockingFailures {
  /** Written before closing when the session threw (`failureBytes(protocol)`: HTTP 500). */
  readonly failureBytes: Uint8Array;
  /** Logs one failure (a worker thread posts it to the main thread, which owns the log). */
  report(code: ConnectionFailureCode, cause: unknown): void;
  /**
   * Logs the session's refusal of this connection's input (already counted in `counters.rejected`); a
   * worker thread posts it to the main thread, as failures.
   */
  rejected?(rejection: SessionRejection): void;
}

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
  failures?: BlockingFailures,
): BlockingEnd {
  const state: SettleState = { sleepSync, counters, failures, handlerFailed: false };
  const deadline = new ReadDeadline(timeouts, acceptedAt);
  try {
    for (;;) {
      const input = io.read(deadline.remaining());
      if (input === 'abort') return 'abort';
      if (input === 'timeout') {
        const kind = deadline.kind;
        if (kind === 'busy' || deadline.remaining() > 0) continue; // woke a hair early: wait out the rest
        settle(session, expireDeadline(session, kind, counters), io, state);
        io.close();
        return 'timeout';
      }
      if (input === 'drain') {
        // Between requests (the previous one was answered before we read): nothing in flight to lose.
        io.close();
        return 'drain';
      }
      const output = input === 'eof' ? session.peerEnded() : session.receive(input);
      if (settle(session, output, io, state)) {
        io.close();
        return 'closed';
      }
      if (state.handlerFailed) {
        // Answered 500 in order already; a handler that threw may have left state we no longer trust.
        io.close();
        return 'failed';
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
    // The session (or our own code) threw: its state is unknown, so this connection ends here, with a 500
    // for HTTP (only whole responses were written before), and the thread returns normally.
    counters?.addErrors();
    failures?.report('IOLAB_SERVER_SESSION_FAILED', err);
    try {
      if (failures && failures.failureBytes.length > 0) io.write(failures.failureBytes);
      io.close();
    } catch {
      // The relay is gone too: nothing more can reach the peer, and the main thread closes the socket.
    }
    return 'failed';
  } finally {
    // However the connection ended: a refusal is counted once, after its reply was written (or not).
    const rejection = session.rejected;
    if (rejection !== undefined) {
      counters?.addRejected();
      failures?.rejected?.(rejection);
    }
  }
}

interface SettleState {
  readonly sleepSync: (ms: number) => void;
  readonly counters: SharedCounters | undefined;
  readonly failures: BlockingFailures | undefined;
  handlerFailed: boolean;
}

/**
 * Writes what an output sends, then runs its work one by one, settling each completion at once so an
 * answer leaves as soon as it exists. True when the session asked to close. Recursion depth is bounded
 * by the session's pipeline cap: a completion only carries new work when parsing resumes below it.
 */
function settle(session: ServerSession, output: SessionOutput, io: BlockingIo, state: SettleState): boolean {
  for (const bytes of output.send) io.write(bytes);
  if (output.close) return true; // nothing after a close may reach the peer
  for (const work of output.work) {
    const result = runSafely(work.op, state);
    state.counters?.addRequests();
    if (settle(session, session.complete(work.id, result), io, state)) return true;
  }
  return false;
}

function runSafely(op: Operation, state: SettleState): OperationResult {
  try {
    return runOperationSync(op, state.sleepSync);
  } catch (err) {
    state.counters?.addErrors();
    state.failures?.report('IOLAB_SERVER_HANDLER_FAILED', err);
    state.handlerFailed = true;
    return { ok: false, status: 500, message: 'IOLAB_SERVER_HANDLER_FAILED: internal server error' };
  }
}

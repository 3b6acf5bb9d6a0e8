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
import type { SharedCounters } from './shared-counters.js';

/** How the loop ended, for tests and logs. */
export type BlockingEnd = 'closed' | 'eof' | 'drain' | 'abort';

/**
 * Serves one connection until the session closes it, the peer ends it, the server drains or the
 * connection is aborted. Every operation runs inline with `runOperationSync`; `sleepSync` really blocks
 * this thread (that is the BIO model: a slow downstream holds the thread).
 */
export function serveBlocking(
  session: ServerSession,
  io: BlockingIo,
  sleepSync: (ms: number) => void,
  counters?: SharedCounters,
): BlockingEnd {
  try {
    for (;;) {
      const input = io.read();
      if (input === 'abort') return 'abort';
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

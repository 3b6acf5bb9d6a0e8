/**
 * The default log for `ConnectionFailedError`s: one line on stderr per failure, at most
 * `FAILURE_LOG_LINES_PER_SECOND` a second. A client that found a way to make the server fail can repeat
 * it as fast as it connects; the lines past the cap are counted and reported in one summary line, so the
 * log stays readable and writing it never becomes the bottleneck. Every failure is still counted in
 * `errors` whatever the log shows.
 *
 *   iolab: IOLAB_SERVER_SESSION_FAILED on connection 7 (pool, http), closed it: TypeError: …
 *   iolab: 1234 more connection failures not logged in the last 1000 ms
 *
 * Lines never start with `{`: the CLI's stats lines on the same stream do.
 */
import type { SessionRejection } from '@iolab/protocols';
import type { ConnectionFailedError } from './errors.js';

/** Enough to see a pattern, few enough that a flood cannot fill a disk or stall the loop on stderr. */
export const FAILURE_LOG_LINES_PER_SECOND = 20;
const WINDOW_MS = 1000;

export type ConnectionFailureLog = (error: ConnectionFailedError, context: string) => void;

/** One refusal of a peer's input (`SessionRejection`) on connection `connectionId`; `context`: the protocol. */
export type ConnectionRejectionLog = (
  rejection: SessionRejection,
  connectionId: number | undefined,
  context: string,
) => void;

export function stderrFailureLog(linesPerSecond = FAILURE_LOG_LINES_PER_SECOND): ConnectionFailureLog {
  const write = rateCappedStderr(linesPerSecond, 'connection failures');
  return (error, context) => {
    const where = error.connectionId === undefined ? '' : ` on connection ${error.connectionId}`;
    write(`iolab: ${error.code}${where} (${context}), closed it: ${error.message}\n`);
  };
}

/**
 * The sibling log for refused input, with its own cap of the same size: a flood of bad bytes (the cheapest
 * thing a client can send) must not hide the server's own failures, nor fill the log.
 *
 *   iolab: IOLAB_HTTP_BAD_REQUEST on connection 7 (http), refused its input: 400 bare LF (at byte 17)
 */
export function stderrRejectionLog(linesPerSecond = FAILURE_LOG_LINES_PER_SECOND): ConnectionRejectionLog {
  const write = rateCappedStderr(linesPerSecond, 'refused connections');
  return (rejection, connectionId, context) => {
    const where = connectionId === undefined ? '' : ` on connection ${connectionId}`;
    const status = rejection.status === undefined ? '' : `${rejection.status} `;
    write(
      `iolab: ${rejection.code}${where} (${context}), refused its input: ${status}${rejection.message}\n`,
    );
  };
}

/** At most `linesPerSecond` lines per window; the rest are counted and summed up in one line. */
function rateCappedStderr(linesPerSecond: number, what: string): (line: string) => void {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (line) => {
    const now = Date.now();
    if (now - windowStart >= WINDOW_MS) {
      if (suppressed > 0) {
        process.stderr.write(`iolab: ${suppressed} more ${what} not logged in the last ${WINDOW_MS} ms\n`);
      }
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged >= linesPerSecond) {
      suppressed++;
      return;
    }
    logged++;
    process.stderr.write(line);
  };
}

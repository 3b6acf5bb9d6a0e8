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
import type { ConnectionFailedError } from './errors.js';

/** Enough to see a pattern, few enough that a flood cannot fill a disk or stall the loop on stderr. */
export const FAILURE_LOG_LINES_PER_SECOND = 20;
const WINDOW_MS = 1000;

export type ConnectionFailureLog = (error: ConnectionFailedError, context: string) => void;

export function stderrFailureLog(linesPerSecond = FAILURE_LOG_LINES_PER_SECOND): ConnectionFailureLog {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (error, context) => {
    const now = Date.now();
    if (now - windowStart >= WINDOW_MS) {
      if (suppressed > 0) {
        process.stderr.write(
          `iolab: ${suppressed} more connection failures not logged in the last ${WINDOW_MS} ms\n`,
        );
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
    const where = error.connectionId === undefined ? '' : ` on connection ${error.connectionId}`;
    process.stderr.write(`iolab: ${error.code}${where} (${context}), closed it: ${error.message}\n`);
  };
}

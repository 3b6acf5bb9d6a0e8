/** Watching for processes a test started (or expects to be gone). */
import { until } from './until.js';

/** True while `pid` exists (signal 0 probes without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export function untilGone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  return until(() => !isAlive(pid), `pid ${pid} to exit`, timeoutMs).then(
    () => true,
    () => false,
  );
}

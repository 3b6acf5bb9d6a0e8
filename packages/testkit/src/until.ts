/**
 * Waiting in tests: one `until` with one argument order — (condition, what, timeout) — so a failure always
 * says what was awaited. The default timeout is generous because CI runs the whole suite on two shared cores.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Long enough for a busy 2-core CI machine; a test that needs longer says so. */
export const DEFAULT_UNTIL_TIMEOUT_MS = 10_000;
/** Often enough that a test does not wait long after the condition holds, rarely enough to cost nothing. */
export const UNTIL_POLL_MS = 10;

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/**
 * Polls `condition` until it returns true (or a truthy promise), or rejects after `timeoutMs` with
 * "timed out after N ms waiting for <what>". A condition that throws rejects at once.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = DEFAULT_UNTIL_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(UNTIL_POLL_MS);
  }
}

/** Like {@link until}, for a probe that returns the awaited value (or undefined while it is not there). */
export async function untilValue<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = DEFAULT_UNTIL_TIMEOUT_MS,
): Promise<T> {
  let value: T | undefined;
  await until(
    async () => {
      value = await probe();
      return value !== undefined;
    },
    what,
    timeoutMs,
  );
  return value as T;
}

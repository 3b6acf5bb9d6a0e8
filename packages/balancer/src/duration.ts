/**
 * Durations as HAProxy and nginx write them: `250ms`, `5s`, `2m`, `1h`, `1d`, or several at once (`1m30s`).
 * A bare number is milliseconds, so every existing config keeps its meaning.
 */

/** A duration: milliseconds, or a string with units (`"5s"`, `"1m30s"`; a bare `"250"` is ms too). */
export type Duration = number | string;

/**
 * Node's timers hold a signed 32-bit millisecond count; a longer `setTimeout` fires at once (with only a
 * warning), which would turn a "very long" timeout into "no time at all". So this is the cap.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** The JSON Schema `pattern` of a duration string (the schema and {@link parseDuration} agree on it). */
export const DURATION_PATTERN = '^(?:[0-9]+|(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h|d))+)$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g;

/**
 * Milliseconds of a {@link Duration}, or a reason it is not one (`undefined` means valid). Whole
 * milliseconds only: `1.5s` is 1500, `0.5ms` is rejected rather than rounded to a different timeout.
 */
export function parseDuration(value: Duration): { ms: number } | { reason: string } {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string' && DURATION_RE.test(value)) {
    if (/^[0-9]+$/.test(value)) ms = Number(value);
    else {
      ms = 0;
      for (const [, n, unit] of value.matchAll(PART_RE)) ms += Number(n) * UNIT_MS[unit!]!;
    }
  } else {
    return {
      reason: `must be a duration like 250ms, 5s, 2m, 1h or milliseconds (got ${JSON.stringify(value)})`,
    };
  }
  if (!Number.isInteger(ms) || ms < 0) {
    return { reason: `must be a whole number of milliseconds >= 0 (got ${JSON.stringify(value)})` };
  }
  if (ms > MAX_DURATION_MS) {
    return {
      reason: `must be at most ${MAX_DURATION_MS} ms, about 24.8 days (got ${JSON.stringify(value)})`,
    };
  }
  return { ms };
}

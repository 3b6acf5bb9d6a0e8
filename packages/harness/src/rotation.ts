/**
 * The order of one round of an interleaved comparison: the items rotated left by the round number, so over
 * as many rounds as items each one runs first, in the middle and last equally often (A B C, B C A, C A B).
 * Drift on a shared machine — other load, thermal state, a GC storm — then hits every item alike instead of
 * whichever always ran last.
 */
export function rotation<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const k = ((round % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

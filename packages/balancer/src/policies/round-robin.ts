import type { BackendView, Policy } from '../policy.js';

/**
 * Round robin over the offered backends (HAProxy `balance roundrobin` without weights, nginx default
 * with equal weights). A counter modulo the list length: exact rotation while the set is stable; when a
 * backend leaves or joins, the rotation continues from the same position in the new list.
 */
export function roundRobin(): Policy {
  let next = 0;
  return (_ctx, backends: readonly BackendView[]) => {
    if (backends.length === 0) return undefined;
    // Keep the counter small so it never loses integer precision on a long-running process.
    if (next >= backends.length) next %= backends.length;
    const b = backends[next];
    next += 1;
    return b;
  };
}

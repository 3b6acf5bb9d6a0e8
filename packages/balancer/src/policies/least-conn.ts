import type { BackendView, Policy } from '../policy.js';

/**
 * Fewest active connections per unit of weight (HAProxy `balance leastconn`, nginx `least_conn`).
 * Ties rotate (a round-robin start offset) so that equal backends share new connections instead of the
 * first one in the list taking every tie — what both HAProxy and nginx do.
 */
export function leastConn(): Policy {
  let offset = 0;
  return (_ctx, backends: readonly BackendView[]) => {
    const n = backends.length;
    if (n === 0) return undefined;
    if (offset >= n) offset %= n;
    let best: BackendView | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const b = backends[(offset + i) % n]!;
      // (active + 1) / weight: the load it would have after taking this connection, as nginx compares.
      const load = (b.active + 1) / b.weight;
      if (load < bestLoad) {
        bestLoad = load;
        best = b;
      }
    }
    offset += 1;
    return best;
  };
}

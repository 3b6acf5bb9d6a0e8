import type { BackendView, Policy } from '../policy.js';

/**
 * Smooth weighted round robin, nginx's `ngx_http_upstream_get_peer`: every pick adds each backend's
 * weight to its `current`, picks the largest `current`, and subtracts the total weight from the winner.
 * Weights 5,1,1 give `a a b a c a a` rather than `a a a a a b c` — the heavy backend's turns are spread out.
 *
 * `current` is kept per backend id, so backends that are temporarily not offered (down, at maxconn)
 * keep their place, and state for ids not seen for a long time is dropped to keep the map bounded.
 *
 * State stays finite: with weights capped at `MAX_WEIGHT` every `current` stays within ±(sum of weights).
 * A custom caller could still offer absurd weights (a `BackendView` of its own), so a value that leaves
 * that band, or is not finite, resets the rotation instead of poisoning every later pick (1e308 + 1e308 is
 * Infinity, and Infinity − Infinity is NaN).
 */
export function weighted(): Policy {
  const current = new Map<string, number>();
  let picks = 0;
  return (_ctx, backends: readonly BackendView[]) => {
    let total = 0;
    let best: BackendView | undefined;
    let bestCurrent = Number.NEGATIVE_INFINITY;
    for (const b of backends) {
      let c = (current.get(b.id) ?? 0) + b.weight;
      if (!Number.isFinite(c)) c = Number.isFinite(b.weight) ? b.weight : 1;
      current.set(b.id, c);
      total += b.weight;
      if (c > bestCurrent) {
        bestCurrent = c;
        best = b;
      }
    }
    if (best === undefined) return undefined;
    const next = bestCurrent - total;
    if (!Number.isFinite(next) || !Number.isFinite(total) || Math.abs(next) > total * 2) {
      current.clear();
      return best;
    }
    current.set(best.id, next);
    // Removed backends would otherwise stay in the map forever.
    if (++picks % 4096 === 0 && current.size > backends.length * 2) {
      const live = new Set(backends.map((b) => b.id));
      for (const id of current.keys()) if (!live.has(id)) current.delete(id);
    }
    return best;
  };
}

import type { BackendView, Policy } from '../policy.js';

export interface P2cOptions {
  /** Source of randomness in [0, 1); tests pass a seeded one. Default `Math.random`. */
  random?: () => number;
}

/**
 * Power of two random choices (Mitzenmacher; Envoy's and Finagle's default): pick two distinct backends at
 * random and keep the one with fewer active connections per weight. Nearly as even as least-conn, without
 * scanning every backend and without the herd effect when many balancers share stale counts.
 */
export function p2c(options: P2cOptions = {}): Policy {
  const random = options.random ?? Math.random;
  return (_ctx, backends: readonly BackendView[]) => {
    const n = backends.length;
    if (n <= 1) return backends[0];
    const i = Math.floor(random() * n);
    // Second index drawn from the n-1 others, so the two are always distinct.
    let j = Math.floor(random() * (n - 1));
    if (j >= i) j += 1;
    const a = backends[i]!;
    const b = backends[j]!;
    return (a.active + 1) / a.weight <= (b.active + 1) / b.weight ? a : b;
  };
}

import type { Policy } from '../policy.js';
import { weighted } from './weighted.js';

/**
 * Round robin that honours weights, the default policy: HAProxy's `balance roundrobin` and nginx's default
 * upstream are both weighted, so a `weight=3` backend must get three turns for every one of a `weight=1`
 * backend, not be silently ignored. It is nginx's smooth weighted round robin ({@link weighted}); with
 * equal weights that is an exact rotation (`a b c a b c`).
 */
export function roundRobin(): Policy {
  return weighted();
}

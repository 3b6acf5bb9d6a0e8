import type { PolicyName, PolicyOption } from '../config.js';
import type { Policy } from '../policy.js';
import { leastConn } from './least-conn.js';
import { p2c } from './p2c.js';
import { roundRobin } from './round-robin.js';
import { sourceHash } from './source-hash.js';
import { weighted } from './weighted.js';

const FACTORIES: Record<PolicyName, () => Policy> = {
  'round-robin': roundRobin,
  weighted,
  'least-conn': leastConn,
  'source-hash': sourceHash,
  p2c,
};

/** A fresh policy instance (policies keep state such as the rotation position) for a config value. */
export function instantiatePolicy(option: PolicyOption): Policy {
  return typeof option === 'function' ? option : FACTORIES[option]();
}

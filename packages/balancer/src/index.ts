/**
 * `@iolab/balancer`: a layer-4 TCP load balancer as a library — the data plane and `createBalancer`.
 *
 * A deliberate surface (at most 40 names, no `export *`): what a program that embeds a balancer calls and
 * types. Defaults are documented on each option and in the shipped JSON schema rather than exported one by
 * one; error classes other than the two below are told apart by their stable `code` (`BalancerErrorCode`).
 * The operations layer of the `iolab-balancer` command (config files, admin API, metrics, logging, reload,
 * cluster) is `@iolab/balancer/ops`, so this entry point loads no pino, prom-client, ajv or yaml.
 */

// The balancer.
export { createBalancer } from './balancer.js';
export type {
  BackendStateEvent,
  BackendStats,
  Balancer,
  BalancerEvents,
  BalancerStats,
  ConnectionEndEvent,
  ListenerStats,
  PoolStats,
  StartResult,
} from './balancer-api.js';
// Its configuration.
export {
  type BackendConfig,
  type BalancerConfig,
  type HealthConfig,
  type ListenerConfig,
  MAX_WEIGHT,
  POLICY_NAMES,
  type PolicyName,
  type PolicyOption,
  type PoolConfig,
  type TimeoutsConfig,
} from './config.js';
export type { Duration } from './duration.js';
// Errors: every one is a BalancerError with a stable code; config errors list JSON pointers.
export { BalancerConfigError, BalancerError, type BalancerErrorCode, type ConfigIssue } from './errors.js';
// Policies: built-in ones, and the types to write your own.
export { leastConn } from './policies/least-conn.js';
export { type P2cOptions, p2c } from './policies/p2c.js';
export { roundRobin } from './policies/round-robin.js';
export { type SourceHashOptions, sourceHash } from './policies/source-hash.js';
export { weighted } from './policies/weighted.js';
export type { BackendView, PickContext, Policy } from './policy.js';
// PROXY protocol, for backends that receive it.
export { parseProxyHeader } from './proxy-protocol/detect.js';
export type { ProxyHeader, ProxyParseResult } from './proxy-protocol/header.js';
export { encodeProxyV1 } from './proxy-protocol/v1.js';
export { encodeProxyV2 } from './proxy-protocol/v2.js';

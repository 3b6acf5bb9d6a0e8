// The library: the data plane and createBalancer. The operations layer (config files, admin API, metrics,
// logging, reload, cluster) is `@iolab/balancer/ops`.
export { createBalancer } from './balancer.js';
export type {
  AcceptErrorEvent,
  BackendAdminState,
  BackendState,
  BackendStateEvent,
  BackendStats,
  Balancer,
  BalancerEvents,
  BalancerStats,
  ClosedBy,
  ConnectErrorEvent,
  ConnectionEndEvent,
  HealthCheckEvent,
  ListenerStats,
  PoolStats,
  QueueEvent,
  StartResult,
} from './balancer-api.js';
export type {
  BackendConfig,
  BalancerConfig,
  HealthConfig,
  ListenerConfig,
  ListenerMode,
  PolicyName,
  PolicyOption,
  PoolConfig,
  ProxyProtocolVersion,
  ResolvedConfig,
  TimeoutsConfig,
} from './config.js';
export {
  DEFAULT_ACCEPT_PAUSE_MS,
  DEFAULT_BACKLOG,
  DEFAULT_CLIENT_FIN_TIMEOUT,
  DEFAULT_CLOSE_DEADLINE,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HEALTH_ENABLED,
  DEFAULT_HEALTH_FALL,
  DEFAULT_HEALTH_INTERVAL,
  DEFAULT_HEALTH_RISE,
  DEFAULT_HEALTH_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_LISTEN_HOST,
  DEFAULT_MAX_HEALTH_REPLY_BYTES,
  DEFAULT_MAX_HELD_BYTES,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAXCONN,
  DEFAULT_POLICY,
  DEFAULT_PROXY_HEADER_TIMEOUT,
  DEFAULT_QUEUE_TIMEOUT,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
  DEFAULT_WEIGHT,
  formatHostPort,
  POLICY_NAMES,
  resolveConfig,
} from './config.js';
export * from './errors.js';
export { leastConn } from './policies/least-conn.js';
export { type P2cOptions, p2c } from './policies/p2c.js';
export { roundRobin } from './policies/round-robin.js';
export {
  DEFAULT_SOURCE_HASH_LOAD_FACTOR,
  DEFAULT_SOURCE_HASH_POINTS,
  type SourceHashOptions,
  sourceHash,
} from './policies/source-hash.js';
export { weighted } from './policies/weighted.js';
export type { BackendView, PickContext, Policy } from './policy.js';
export { parseProxyHeader } from './proxy-protocol/detect.js';
export type {
  ProxyEndpoint,
  ProxyHeader,
  ProxyParseResult,
  ProxyTlv,
  ProxyTransport,
} from './proxy-protocol/header.js';
export { encodeProxyV1, PROXY_V1_MAX_LENGTH, parseProxyV1 } from './proxy-protocol/v1.js';
export {
  DEFAULT_PROXY_V2_MAX_LENGTH,
  encodeProxyV2,
  PROXY_V2_SIGNATURE,
  parseProxyV2,
} from './proxy-protocol/v2.js';

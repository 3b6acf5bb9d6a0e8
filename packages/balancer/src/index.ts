// Operations layer: config file, admin API, metrics, logs, reload, cluster (used by `iolab balance`).
export type { AdminServer, BalancerControl } from './admin-api.js';
export { localControl, MAX_ADMIN_BODY_BYTES, startAdminServer } from './admin-api.js';
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
export type { RunningBalancer } from './cluster.js';
export { runClusterWorker, startCluster, startLocal } from './cluster.js';
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
export type { AdminConfig, BalancerFileConfig, ConfigIssue, LogLevel } from './config-schema.js';
export {
  BALANCER_CONFIG_SCHEMA,
  ConfigFileError,
  DEFAULT_ADMIN_HOST,
  DEFAULT_LOG_LEVEL,
  DEFAULT_WORKERS,
  LOG_LEVELS,
  loadBalancerConfigFile,
  MAX_CONFIG_FILE_BYTES,
  MAX_WORKERS,
  parseBackendJson,
  parseBalancerConfig,
  parseBalancerConfigText,
  readBalancerConfigJson,
} from './config-schema.js';
export * from './errors.js';
export type { BalancerLoggerOptions, Logger } from './logging.js';
export { attachBalancerLogging, createBalancerLogger } from './logging.js';
export type { BalancerMetrics, BalancerMetricsOptions } from './metrics.js';
export { createBalancerMetrics } from './metrics.js';
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
export type { Reloader, ReloaderOptions } from './reload.js';
export { createReloader } from './reload.js';

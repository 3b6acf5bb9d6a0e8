// `@iolab/balancer/ops`: the operations layer of the `iolab-balancer` command (config file and schema, admin
// API, metrics, logging, reload, cluster). Kept apart from the root so that users of `createBalancer` do not
// load pino, prom-client and ajv.
export type { AdminServer, BalancerControl } from './admin-api.js';
export { localControl, MAX_ADMIN_BODY_BYTES, startAdminServer } from './admin-api.js';
export type { RunningBalancer } from './cluster.js';
export { runClusterWorker, startCluster, startLocal } from './cluster.js';
export { runBalance } from './command.js';
export { resolveBalanceArgs, UsageError } from './command-flags.js';
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
export type { BalancerLoggerOptions, Logger } from './logging.js';
export { attachBalancerLogging, createBalancerLogger } from './logging.js';
export type { BalancerMetrics, BalancerMetricsOptions } from './metrics.js';
export { createBalancerMetrics } from './metrics.js';
export type { Reloader, ReloaderOptions } from './reload.js';
export { createReloader } from './reload.js';

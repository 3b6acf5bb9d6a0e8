export { killAllManaged, liveManagedCount } from './child-registry.js';
export {
  AbortedError,
  BadOptionError,
  ChildExitedError,
  LoadgenError,
  type LoadgenErrorCode,
  ReadyTimeoutError,
} from './errors.js';
export type { ChartSpec, Experiment, ExperimentOptions, ProgressEvent, ReportSection } from './experiment.js';
export {
  type EncodedRequest,
  encodeRequest,
  type FramedOp,
  type FramedProtocol,
} from './framed-client-codec.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
  type FramedLoadOptions,
  type FramedLoadResult,
  MAX_CONCURRENT_CONNECTS,
  MAX_LOCAL_BACKLOG_PER_CONNECTION,
  runFramedLoad,
  SEND_LAG_SATURATION_MS,
} from './framed-load.js';
export {
  type HttpLoadOptions,
  type HttpLoadResult,
  type LatencyMs,
  parseWrkOutput,
  runHttpLoad,
  runWrk,
  type WrkOptions,
  wrkAvailable,
} from './http-load.js';
export {
  DEFAULT_READY_PATTERN,
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STDERR_CAP_BYTES,
  DEFAULT_STOP_GRACE_MS,
  type ExitResult,
  findExecutable,
  formatCommandLine,
  type ManagedProcess,
  type SpawnManagedOptions,
  spawnManaged,
} from './managed-process.js';
export {
  diffSamples,
  type LoadgenCpu,
  type ProcDelta,
  type ProcSample,
  SATURATION_CPU_PERCENT,
  type SelfSampler,
  sampleProcess,
  startSelfSampler,
} from './proc-stats.js';

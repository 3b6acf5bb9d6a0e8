export { killAllManaged, liveManagedCount, trackChild } from './child-registry.js';
export { findExecutable, formatCommandLine } from './command-line.js';
export { type CorePlan, isPinnedTo, pinPrefix, planCores } from './cpu-pinning.js';
export {
  ChildExitedError,
  HarnessError,
  type HarnessErrorCode,
  HarnessOptionError,
  ProcessAbortedError,
  ReadyTimeoutError,
} from './errors.js';
export type { ChartSpec, Experiment, ExperimentOptions, ProgressEvent, ReportSection } from './experiment.js';
export {
  DEFAULT_READY_PATTERN,
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STDERR_CAP_BYTES,
  DEFAULT_STOP_GRACE_MS,
  type ExitResult,
  type ManagedProcess,
  type SpawnManagedOptions,
  spawnManaged,
} from './managed-process.js';
export { type Align, type Column, mdEscape, renderTable } from './markdown-table.js';
export {
  descendantsOf,
  environHas,
  isDead,
  listPids,
  machineCpuMs,
  type ProcStat,
  type ProcStatus,
  parentMap,
  parseMachineCpu,
  parseStat,
  readCmdline,
  readStat,
  readStatus,
  reapedChildrenCpuMs,
  ticksPerSecond,
} from './proc-reader.js';
export {
  diffSamples,
  type LoadgenCpu,
  type ProcDelta,
  type ProcSample,
  SATURATION_CPU_PERCENT,
  type SelfSampler,
  sampleProcess,
  sampleTree,
  startSelfSampler,
} from './proc-stats.js';
export { describeVerdict, type RatioEstimate, ratioWithCi, type Verdict, verdictOf } from './ratio-ci.js';
export { rotation } from './rotation.js';
export { median, quantile, type Spread, spreadOf } from './stats.js';
export { studentTCdf, studentTQuantile } from './student-t.js';

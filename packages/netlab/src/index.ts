// The network lab: namespaces, cleanup, keepalived. Used by `iolab lab` and apps/kernel-balancing.
export { type CleanupHandle, CleanupRegistry, labCleanup } from './cleanup-registry.js';
export {
  KeepalivedError,
  LabBadOptionError,
  LabCommandError,
  LabMissingToolError,
  LabNeedsRootError,
  NetlabError,
  type NetlabErrorCode,
} from './errors.js';
export { type LabRun, listLabNamespaces, listLabRuns, removeLabRun } from './inventory.js';
export {
  DEFAULT_ADVERT_INTERVAL_SEC,
  DEFAULT_TRACK_FALL,
  DEFAULT_TRACK_INTERVAL_SEC,
  DEFAULT_TRACK_RISE,
  DEFAULT_TRACK_TIMEOUT_SEC,
  type HaServiceSource,
  type KeepalivedInstanceOptions,
  renderKeepalivedConfig,
  renderTrackScript,
  type VrrpAddress,
} from './keepalived-config.js';
export {
  KEEPALIVED_STOP_GRACE_MS,
  type KeepalivedProcess,
  keepalivedWorkDir,
  type StartKeepalivedOptions,
  startKeepalived,
  type VrrpState,
} from './keepalived-process.js';
export { assertLabAvailable, labUnavailableReason } from './privileges.js';
export { DEFAULT_COMMAND_TIMEOUT_MS, findTool } from './system-command.js';
export {
  createLab,
  type Director,
  LAB_ADDRESSES,
  LAB_NAMESPACE_PREFIX,
  type Lab,
  type LabHost,
  type LabOptions,
  type LabStateFile,
  labStateDir,
  MAX_REAL_SERVERS,
  type RealServer,
} from './topology.js';

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

export type { ProfileSummary } from './cpu-profile.js';
export { summariseCpuProfile } from './cpu-profile.js';
export { haproxyConfig } from './haproxy-config.js';
export { nginxConfig, nginxHasStream } from './nginx-config.js';
export { renderMarkdown } from './report.js';
export type {
  BalancerExperimentResults,
  ClientName,
  Ratio,
  Ratios,
  RunResult,
  SummaryRow,
  TargetName,
} from './results.js';
export { computeRatios, summarise } from './results.js';
export { type BalancerExperimentExtras, runBalancerExperiment } from './run.js';
export type { BackendKind } from './targets.js';

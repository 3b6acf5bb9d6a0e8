// The kernel-balancing experiment: its run (results) and its report section kept apart.
import type { Experiment } from '@iolab/harness';
import { renderKernelBalancing } from './kernel-balancing-report.js';
import { runKernelBalancing } from './run-kernel-balancing.js';

export {
  renderKernelBalancing,
  SECTION_ID,
  SECTION_TITLE,
  targetFigures,
} from './kernel-balancing-report.js';
export {
  comparisonLine,
  KERNEL_EXPERIMENT,
  type KernelComparison,
  kernelComparisons,
  kernelVerdicts,
  TARGET_LABELS,
  WORKLOADS,
} from './kernel-balancing-verdicts.js';
export {
  FULL_PLAN,
  type KernelBalancingResults,
  kernelBalancingUnavailable,
  LOADED_TARGETS,
  type LoadPlan,
  MAX_ERROR_SHARE,
  QUICK_PLAN,
  runKernelBalancing,
  type TargetResult,
} from './run-kernel-balancing.js';
export { TARGET_NAMES, type TargetName } from './targets.js';

/** The bench entry: without root the section is returned as "skipped: needs root", never thrown. */
export const kernelBalancingExperiment: Experiment = async (options) =>
  renderKernelBalancing(
    await runKernelBalancing({
      quick: options.quick,
      cliPath: options.cliPath,
      signal: options.signal,
      progress: options.progress,
    }),
  );

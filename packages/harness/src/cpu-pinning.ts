/**
 * Where each process of an experiment runs. On a machine with ≥ 2 cores the server (or proxy) under test gets
 * the last core to itself and the load generator (and helpers such as backends) the first, so the two never
 * fight over one core; `taskset -c` does the pinning and the kernel's own affinity list confirms it.
 */
import { availableParallelism } from 'node:os';
import { findExecutable } from './command-line.js';
import { readStatus } from './proc-reader.js';

/** Which core each side gets; both undefined when pinning is impossible (one core, or no taskset). */
export interface CorePlan {
  /** The server or proxy under test. */
  readonly serverCpu: number | undefined;
  /** The load generator and helpers that are not measured (backends). */
  readonly loadgenCpu: number | undefined;
  /** One sentence for the report's method text. */
  readonly note: string;
}

/** The plan every experiment uses: server on the last core, load generator on core 0. */
export function planCores(
  cores = availableParallelism(),
  hasTaskset = findExecutable('taskset') !== undefined,
): CorePlan {
  if (!hasTaskset) {
    return {
      serverCpu: undefined,
      loadgenCpu: undefined,
      note: 'taskset not found: server and load generator share cores (numbers are a lower bound)',
    };
  }
  if (cores < 2) {
    return {
      serverCpu: undefined,
      loadgenCpu: undefined,
      note: 'one core: server and load generator share it (numbers are a lower bound)',
    };
  }
  return {
    serverCpu: cores - 1,
    loadgenCpu: 0,
    note: `server pinned to CPU ${cores - 1}, load generator to CPU 0 (taskset)`,
  };
}

/**
 * The argv prefix that pins a command to `cpu` (`taskset -c <cpu>`), or [] when `cpu` is undefined, out of
 * range, or taskset is missing: an unpinned run is still a run, and {@link isPinnedTo} tells the report.
 */
export function pinPrefix(cpu: number | undefined): string[] {
  if (cpu === undefined || cpu >= availableParallelism()) return [];
  const taskset = findExecutable('taskset');
  return taskset ? [taskset, '-c', String(cpu)] : [];
}

/** True when the kernel confirms `pid` may run on exactly `cpu`. */
export function isPinnedTo(pid: number, cpu: number): boolean {
  return readStatus(pid)?.cpusAllowedList === String(cpu);
}

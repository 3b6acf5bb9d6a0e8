/**
 * The last line of defence against stray processes: after every experiment has stopped its own children (and
 * the harness's child registry has killed what it knows of), look in /proc for anything still running that this run
 * started — a descendant of this process, or any process carrying this run's marker in its environment (which
 * also finds children whose parent died and that were re-parented to init) — and kill it.
 */
import { environHas, listPids, parentMap, readCmdline } from '@iolab/harness';

/** Environment variable every process of one bench run inherits; its value is the run's id. */
export const RUN_MARKER_ENV = 'IOLAB_BENCH_RUN';

export interface StrayProcess {
  readonly pid: number;
  readonly cmdline: string;
}

/**
 * Live processes descending from `rootPid`, or (when `marker` is given) carrying `RUN_MARKER_ENV=marker`.
 * `rootPid`, this process, its ancestors and `excludePids` are never listed. Empty off Linux.
 */
export function findStrays(
  rootPid: number,
  marker?: string,
  excludePids: readonly number[] = [],
): StrayProcess[] {
  const pids = listPids();
  const parents = parentMap();
  const excluded = new Set([rootPid, process.pid, ...excludePids]);
  // Our own ancestors may carry the marker too (it was set before we started): never theirs to kill.
  let up = parents.get(process.pid);
  for (let hops = 0; up !== undefined && up > 1 && hops < pids.length; hops++) {
    excluded.add(up);
    up = parents.get(up);
  }
  const found: StrayProcess[] = [];
  for (const pid of parents.keys()) {
    if (excluded.has(pid)) continue;
    let ancestor = parents.get(pid);
    let descends = false;
    // Bounded walk: a pid chain is never longer than the number of processes.
    for (let hops = 0; ancestor !== undefined && ancestor > 1 && hops < pids.length; hops++) {
      if (ancestor === rootPid) {
        descends = true;
        break;
      }
      ancestor = parents.get(ancestor);
    }
    if (descends || (marker !== undefined && environHas(pid, RUN_MARKER_ENV, marker)))
      found.push({ pid, cmdline: readCmdline(pid) });
  }
  return found;
}

/** SIGKILLs each stray; returns those that were still there to kill. */
export function killStrays(strays: readonly StrayProcess[]): StrayProcess[] {
  const killed: StrayProcess[] = [];
  for (const stray of strays) {
    try {
      process.kill(stray.pid, 'SIGKILL');
      killed.push(stray);
    } catch {
      // Exited in the meantime.
    }
  }
  return killed;
}

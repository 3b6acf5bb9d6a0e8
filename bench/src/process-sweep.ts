/**
 * The last line of defence against stray processes: after every experiment has stopped its own children (and
 * loadgen's registry has killed what it knows of), look in /proc for anything still running that this run
 * started — a descendant of this process, or any process carrying this run's marker in its environment (which
 * also finds children whose parent died and that were re-parented to init) — and kill it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Environment variable every process of one bench run inherits; its value is the run's id. */
export const RUN_MARKER_ENV = 'IOLAB_BENCH_RUN';

export interface StrayProcess {
  readonly pid: number;
  readonly cmdline: string;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state, fields[1] the parent pid; a zombie is already dead.
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${RUN_MARKER_ENV}=${marker}`);
  } catch {
    // Another user's process, or gone.
    return false;
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
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
  const pids = allPids();
  const parents = new Map<number, number>();
  for (const pid of pids) {
    const parent = parentOf(pid);
    if (parent !== undefined) parents.set(pid, parent);
  }
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
    if (descends || (marker !== undefined && hasMarker(pid, marker)))
      found.push({ pid, cmdline: cmdlineOf(pid) });
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

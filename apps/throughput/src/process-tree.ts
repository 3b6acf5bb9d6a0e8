/**
 * A server's resource use includes its children: `loop --workers N` is a cluster primary plus N worker
 * processes. This sums /proc samples over a pid and all its descendants, so every model is charged for
 * everything it runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type ProcSample, sampleProcess } from '@iolab/loadgen';

function childrenByParent(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return map;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = map.get(parent) ?? [];
      list.push(Number(name));
      map.set(parent, list);
    } catch {
      // Exited while we looked.
    }
  }
  return map;
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const children = childrenByParent();
  const out: number[] = [];
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const next = stack.pop() as number;
    if (seen.has(next)) continue;
    seen.add(next);
    out.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return out;
}

/** One summed sample over the tree rooted at `pid`; undefined when `pid` itself is gone. */
export function sampleTree(pid: number): ProcSample | undefined {
  const root = sampleProcess(pid);
  if (!root) return undefined;
  let rssBytes = root.rssBytes;
  let userCpuMs = root.userCpuMs;
  let systemCpuMs = root.systemCpuMs;
  let threads = root.threads;
  let voluntary = root.voluntaryCtxSwitches;
  let nonvoluntary = root.nonvoluntaryCtxSwitches;
  for (const child of processTree(pid).slice(1)) {
    const s = sampleProcess(child);
    if (!s) continue;
    rssBytes += s.rssBytes;
    userCpuMs += s.userCpuMs;
    systemCpuMs += s.systemCpuMs;
    threads += s.threads;
    voluntary += s.voluntaryCtxSwitches;
    nonvoluntary += s.nonvoluntaryCtxSwitches;
  }
  return {
    pid,
    atMs: performance.now(),
    rssBytes,
    userCpuMs,
    systemCpuMs,
    threads,
    voluntaryCtxSwitches: voluntary,
    nonvoluntaryCtxSwitches: nonvoluntary,
  };
}

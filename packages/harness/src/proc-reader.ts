/**
 * The one place that reads Linux procfs for a process: `/proc/<pid>/stat` (state, parent, CPU ticks),
 * `/proc/<pid>/status` (RSS, threads, context switches, CPU affinity), `cmdline` and `environ`. Everything
 * else in the tree asks here. Off Linux, or once a process is gone, every reader returns `undefined` (or an
 * empty list) rather than guessing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of `/proc/<pid>/stat` the harness uses. Tick counts are in USER_HZ ({@link ticksPerSecond}). */
export interface ProcStat {
  /** R, S, D, Z, T, … (field 3). */
  readonly state: string;
  readonly parentPid: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** CPU of this process's exited, reaped children (fields 16 and 17). */
  readonly childUtimeTicks: number;
  readonly childStimeTicks: number;
}

/** The fields of `/proc/<pid>/status` the harness uses. */
export interface ProcStatus {
  readonly rssBytes: number;
  readonly threads: number;
  readonly voluntaryCtxSwitches: number;
  readonly nonvoluntaryCtxSwitches: number;
  /** `Cpus_allowed_list`, e.g. "1" or "0-3". */
  readonly cpusAllowedList: string | undefined;
}

let clockTicks: number | undefined;
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. 100 on every mainstream Linux; asked once. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const parsed = Number.parseInt(
        execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }),
        10,
      );
      clockTicks = Number.isFinite(parsed) && parsed > 0 ? parsed : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function readProcFile(pid: number | 'self', file: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    // Gone, or another user's process.
    return undefined;
  }
}

/** Parses the text of a `/proc/<pid>/stat` file; exported for tests that feed odd command names. */
export function parseStat(text: string): ProcStat | undefined {
  // The command name (field 2) is in parentheses and may itself contain spaces and ')', so split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const num = (field: number): number => {
    const value = Number(fields[field - 3]);
    return Number.isFinite(value) ? value : 0;
  };
  const state = fields[0];
  if (state === undefined || state === '') return undefined;
  return {
    state,
    parentPid: num(4),
    utimeTicks: num(14),
    stimeTicks: num(15),
    childUtimeTicks: num(16),
    childStimeTicks: num(17),
  };
}

/** `/proc/<pid>/stat`, or undefined when it cannot be read. */
export function readStat(pid: number | 'self'): ProcStat | undefined {
  const text = readProcFile(pid, 'stat');
  return text === undefined ? undefined : parseStat(text);
}

function statusField(status: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** `/proc/<pid>/status`, or undefined when it cannot be read. */
export function readStatus(pid: number | 'self'): ProcStatus | undefined {
  const status = readProcFile(pid, 'status');
  if (status === undefined) return undefined;
  return {
    rssBytes: (statusField(status, 'VmRSS') ?? 0) * 1024,
    threads: statusField(status, 'Threads') ?? 0,
    voluntaryCtxSwitches: statusField(status, 'voluntary_ctxt_switches') ?? 0,
    nonvoluntaryCtxSwitches: statusField(status, 'nonvoluntary_ctxt_switches') ?? 0,
    cpusAllowedList: /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1],
  };
}

/** A dead process still listed (zombie, or being reaped) does no work and can take no signal that matters. */
export function isDead(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

/** The command line with NULs turned into spaces ('' when unreadable). */
export function readCmdline(pid: number): string {
  return (readProcFile(pid, 'cmdline') ?? '').split('\0').join(' ').trim();
}

/** Whether the process's environment holds exactly `name=value` (false when unreadable). */
export function environHas(pid: number, name: string, value: string): boolean {
  return (readProcFile(pid, 'environ') ?? '').split('\0').includes(`${name}=${value}`);
}

/** Every pid in /proc (empty off Linux). */
export function listPids(): number[] {
  if (process.platform !== 'linux') return [];
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** pid → parent pid for every live (not zombie) process. */
export function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat && !isDead(stat)) parents.set(pid, stat.parentPid);
  }
  return parents;
}

/** `pid` and every live descendant, `pid` first. */
export function descendantsOf(pid: number, parents: ReadonlyMap<number, number> = parentMap()): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parents) {
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
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

/**
 * CPU ms of this process's exited and reaped children (cutime + cstime). Around a child that runs to its end
 * (wrk), the difference is that child's own CPU when nothing else started here exits meanwhile.
 */
export function reapedChildrenCpuMs(): number | null {
  const stat = readStat('self');
  if (!stat) return null;
  return ((stat.childUtimeTicks + stat.childStimeTicks) * 1000) / ticksPerSecond();
}

/**
 * Machine-wide softirq and busy time in ms from the `cpu` line of /proc/stat (in USER_HZ, {@link ticksPerSecond}). Without CONFIG_IRQ_TIME_ACCOUNTING both are tick-sampled: a tick that lands
 * while softirq work runs (also on a process's syscall path, where veth delivers) is booked as softirq, so
 * over a second or more the figure is a fair sample, but it is the whole machine's, not one namespace's.
 */
export function machineCpuMs(): { softirq: number; busy: number } {
  return parseMachineCpu(readFileSync('/proc/stat', 'utf8'), ticksPerSecond());
}

/**
 * The aggregate `cpu` line of /proc/stat, in ms: softirq, and busy = all but idle and iowait.
 *
 *   cpu  user nice system idle iowait irq softirq steal guest guest_nice      (ticks of USER_HZ)
 *        0    1    2      3    4      5   6       7     (guest time is already inside user/nice)
 */
export function parseMachineCpu(statText: string, ticks: number): { softirq: number; busy: number } {
  const line = statText.split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => f[i] ?? 0;
  const ms = 1000 / ticks;
  return { softirq: at(6) * ms, busy: (at(0) + at(1) + at(2) + at(5) + at(6) + at(7)) * ms };
}

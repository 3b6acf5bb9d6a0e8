import { describe, expect, it } from 'vitest';
import {
  descendantsOf,
  parentMap,
  parseMachineCpu,
  parseStat,
  readCmdline,
  readStat,
  reapedChildrenCpuMs,
} from './proc-reader.js';

describe('parseStat', () => {
  it('splits after the last parenthesis, so a command name with spaces and ")" cannot shift fields', () => {
    // Fields 1..17 of a real stat line, with a hostile comm.
    const line = '4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 9 20 0 1 0';
    const stat = parseStat(line);
    expect(stat).toEqual({
      state: 'S',
      parentPid: 17,
      utimeTicks: 250,
      stimeTicks: 30,
      childUtimeTicks: 7,
      childStimeTicks: 9,
    });
  });

  it('returns undefined for text that is not a stat line', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('no parenthesis here')).toBeUndefined();
  });
});

describe('parseMachineCpu', () => {
  it('reads softirq from the seventh field, not irq from the sixth', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice, at 100 ticks a second
    const text = 'cpu  100 2 30 900 4 0 7 1 0 0\ncpu0 50 1 15 450 2 0 3 0 0 0\n';
    expect(parseMachineCpu(text, 100)).toEqual({ softirq: 70, busy: 1400 });
  });
});

describe.skipIf(process.platform !== 'linux')('procfs on this machine', () => {
  it('reads this process: running, parent is our parent', () => {
    const stat = readStat(process.pid);
    expect(stat?.parentPid).toBe(process.ppid);
    expect(readCmdline(process.pid)).toContain('node');
  });

  it('finds this process among the descendants of its parent', () => {
    const tree = descendantsOf(process.ppid, parentMap());
    expect(tree[0]).toBe(process.ppid);
    expect(tree).toContain(process.pid);
  });

  it('gives a non-negative CPU figure for reaped children', () => {
    expect(reapedChildrenCpuMs()).toBeGreaterThanOrEqual(0);
  });

  it('returns undefined for a pid that cannot exist', () => {
    // pid_max is at most 2^22 on Linux.
    expect(readStat(2 ** 22 + 1)).toBeUndefined();
  });
});

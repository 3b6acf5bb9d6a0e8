import { describe, expect, it } from 'vitest';
import { diffSamples, sampleProcess, startSelfSampler } from './proc-stats.js';

function spin(ms: number): number {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
}

describe('proc-stats', () => {
  it.skipIf(process.platform !== 'linux')('reads this process from procfs consistently with Node', () => {
    const before = sampleProcess(process.pid);
    expect(before).toBeDefined();
    if (!before) return;
    const rss = process.memoryUsage().rss;
    expect(before.rssBytes).toBeGreaterThan(rss / 2);
    expect(before.rssBytes).toBeLessThan(rss * 2);
    expect(before.threads).toBeGreaterThanOrEqual(1);
    spin(150);
    const after = sampleProcess(process.pid);
    if (!after) throw new Error('no second sample');
    const delta = diffSamples(before, after);
    // CPU was burnt between the samples (clock ticks are 10 ms, so allow for rounding).
    expect(delta.userCpuMs + delta.systemCpuMs).toBeGreaterThan(0);
    expect(delta.wallMs).toBeGreaterThanOrEqual(140);
    expect(after.voluntaryCtxSwitches).toBeGreaterThanOrEqual(before.voluntaryCtxSwitches);
  });

  it('returns undefined for a process that does not exist', () => {
    // pid_max is at most 2^22 on Linux.
    expect(sampleProcess(2 ** 22 + 1)).toBeUndefined();
  });

  it('self-sampler: measures CPU this process used, over the wall time it ran', () => {
    const sampler = startSelfSampler();
    spin(120);
    const cpu = sampler.stop();
    expect(cpu.wallMs).toBeGreaterThanOrEqual(115);
    expect(cpu.userCpuMs + cpu.systemCpuMs).toBeGreaterThan(0);
    expect(cpu.cpuPercent).toBeGreaterThan(0);
    expect(cpu.peakCpuPercent).toBeGreaterThanOrEqual(cpu.cpuPercent);
    expect(sampler.stop()).toBe(cpu);
  });
});

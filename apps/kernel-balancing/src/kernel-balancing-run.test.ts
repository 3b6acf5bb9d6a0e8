/**
 * The section's run for real, cut to three targets, 1 s of warm-up and two 1 s windows (no DR, no
 * failover): every target up at once on its own port, windows in rotating order, the client-address column,
 * verdicts with intervals from the per-window figures — and afterwards nothing of the lab is left: no
 * namespace, no nft table, no keepalived. Needs root, ip, nft and wrk; skipped with a message otherwise.
 * Assertions compare with what existed before, since other runs may have labs of their own at the same time.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderKernelBalancing } from './kernel-balancing-report.js';
import { KERNEL_EXPERIMENT, WORKLOADS } from './kernel-balancing-verdicts.js';
import { kernelBalancingUnavailable, runKernelBalancing } from './run-kernel-balancing.js';

const skipReason = kernelBalancingUnavailable();
if (skipReason) console.warn(`kernel-balancing-run: SKIPPED — ${skipReason}`);
const cli = fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url));

const lines = (file: string, args: readonly string[]): string[] => {
  try {
    return execFileSync(file, args, { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};
const netns = (): string[] => lines('ip', ['netns', 'list']).filter((l) => l.startsWith('iolab-'));
const keepaliveds = (): string[] => lines('pgrep', ['-x', 'keepalived']);
const hostTables = (): string[] => lines('nft', ['list', 'tables']).filter((l) => l.includes('iolab'));

describe.skipIf(skipReason !== undefined)('kernel balancing run', { timeout: 120_000 }, () => {
  it('measures every target in rotating windows, states verdicts, and leaves nothing behind', async () => {
    const before = { netns: netns(), keepaliveds: keepaliveds(), tables: hostTables() };
    const results = await runKernelBalancing({
      quick: true,
      cliPath: cli,
      signal: new AbortController().signal,
      progress: () => {},
      targets: ['direct', 'iolab', 'nft NAT'],
      directRouting: false,
      failover: false,
      plan: { connections: 8, durationSec: 1, warmupSec: 1, windows: 2 },
    });
    expect(results.status).toBe('ok');
    expect(results.windowOrder).toEqual([
      ['direct', 'iolab', 'nft NAT'],
      ['iolab', 'nft NAT', 'direct'],
    ]);
    const by = new Map(results.targets.map((t) => [t.target, t]));
    for (const name of ['direct', 'iolab', 'nft NAT'] as const) {
      expect(by.get(name)?.status, `${name}: ${by.get(name)?.reason}`).toBe('ok');
      expect(by.get(name)?.runs).toHaveLength(2);
      expect(by.get(name)?.runs.every((r) => r.requests > 0)).toBe(true);
    }
    // NAT and direct keep the client's address; the proxy shows its own back address.
    expect(Object.keys(by.get('nft NAT')!.seen)).toEqual([results.clientAddress]);
    expect(Object.keys(by.get('direct')!.seen)).toEqual([results.clientAddress]);
    expect(Object.keys(by.get('iolab')!.seen)).toEqual(['203.0.113.2']);
    // Direct answers from rs1 alone; the NAT director spreads new connections over the three.
    expect(Object.keys(by.get('direct')!.servers)).toEqual(['rs1']);
    expect(Object.keys(by.get('nft NAT')!.servers).length).toBeGreaterThan(1);

    const section = renderKernelBalancing(results);
    const verdicts = section.verdicts ?? [];
    expect(verdicts.filter((v) => v.workload === WORKLOADS.throughput)).toHaveLength(1);
    expect(verdicts.filter((v) => v.workload === WORKLOADS.hop)).toHaveLength(2);
    for (const v of verdicts) {
      expect(v.experiment).toBe(KERNEL_EXPERIMENT);
      expect(v.ci95[0]).toBeLessThanOrEqual(v.ratio);
      expect(v.ci95[1]).toBeGreaterThanOrEqual(v.ratio);
      expect(v.winner === null).toBe(!v.significant);
    }

    expect(netns().filter((n) => !before.netns.includes(n))).toEqual([]);
    expect(keepaliveds().filter((p) => !before.keepaliveds.includes(p))).toEqual([]);
    expect(hostTables().filter((t) => !before.tables.includes(t))).toEqual([]);
  });
});

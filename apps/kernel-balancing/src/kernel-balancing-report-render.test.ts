import { describeVerdict } from '@iolab/harness';
import { describe, expect, it } from 'vitest';
import { renderKernelBalancing, targetFigures } from './kernel-balancing-report.js';
import { KERNEL_EXPERIMENT, WORKLOADS } from './kernel-balancing-verdicts.js';
import type { KernelBalancingResults, TargetResult } from './run-kernel-balancing.js';
import { QUICK_PLAN } from './run-kernel-balancing.js';

/** A target measured in three 2 s windows at `rps` × each of `jitter`; CPU figures are per window. */
function target(
  name: TargetResult['target'],
  rps: number,
  procCpuMs: number,
  softirqMs: number,
  machineBusyMs: number,
  seen: string,
  jitter: readonly number[] = [1, 1, 1],
): TargetResult {
  return {
    target: name,
    status: 'ok',
    runs: jitter.map((j) => ({
      requests: rps * j * 2,
      requestsPerSec: rps * j,
      p50Ms: 1,
      p99Ms: 5,
      errors: 0,
      non2xx: 0,
      procCpuMs: procCpuMs * j,
      softirqMs: softirqMs * j,
      machineBusyMs: machineBusyMs * j,
      commandLine: 'wrk',
    })),
    seen: { [seen]: 6 },
    servers: { rs1: 2, rs2: 2, rs3: 2 },
    commandLine: '',
  };
}

const results: KernelBalancingResults = {
  status: 'ok',
  quick: true,
  plan: QUICK_PLAN,
  windowOrder: [
    ['direct', 'iolab', 'nft NAT'],
    ['iolab', 'nft NAT', 'direct'],
    ['nft NAT', 'direct', 'iolab'],
  ],
  clientAddress: '198.51.100.10',
  vip: '198.51.100.100',
  realServerKind: 'nginx',
  targets: [
    target('direct', 10_000, 0, 100, 2_000, '198.51.100.10', [0.98, 1, 1.02]),
    target('iolab', 5_000, 400, 100, 1_800, '203.0.113.2', [0.97, 1, 1.03]),
    // Within 2 % of direct, windows overlapping: the hop cost of the kernel director is a tie.
    target('nft NAT', 9_900, 2, 180, 1_980, '198.51.100.10', [0.96, 1.01, 1.03]),
    {
      target: 'nginx',
      status: 'skipped',
      reason: 'nginx is not installed',
      runs: [],
      seen: {},
      servers: {},
      commandLine: '',
    },
  ],
  directRouting: { works: false, reason: 'nft refused the DR ruleset: fwd unsupported' },
  failover: {
    advertIntervalSec: 1,
    trackScript: '',
    keepalivedConfig: 'vrrp_instance x {}',
    commands: [],
    events: [
      {
        pass: 'preempt on',
        event: "master's balancer killed (SIGKILL)",
        expect: 'dir2',
        recoveryMs: 3200,
        newErrors: 50,
        newTotal: 70,
        establishedErrors: 90,
        establishedTotal: 120,
        errorKinds: ['ECONNREFUSED'],
        servedBy: { dir1: 0, dir2: 11 },
      },
    ],
  },
  commands: [],
};

describe('kernel balancing report', () => {
  it('computes per-request director cost from process CPU and softirq above the direct run', () => {
    const f = new Map(targetFigures(results.targets).map((x) => [x.target, x]));
    // Per window the CPU scales with the requests, so every window gives the same per-request figure.
    // iolab: 400 ms over 10,000 requests = 40 µs; softirq 100 ms / 10,000 = 10 µs = direct's 5 µs + 5.
    expect(f.get('iolab')?.processUs).toBeCloseTo(40);
    expect(f.get('iolab')?.directorUs).toBeCloseTo(45);
    // nft: 180 ms / 19,800 ≈ 9.09 µs softirq, 4.09 above direct; process 2 ms / 19,800 ≈ 0.10 µs.
    expect(f.get('nft NAT')?.directorUs).toBeCloseTo(180_000 / 19_800 - 5 + 2_000 / 19_800, 2);
    expect(f.get('nft NAT')?.addedUs).toBeCloseTo(1_980_000 / 19_800 - 2_000_000 / 20_000);
    expect(f.get('iolab')?.windows).toEqual([4850, 5000, 5150]);
    expect(f.has('nginx')).toBe(false);
  });

  it('renders the targets table with the client-address column, skipped targets, DR and failover rows', () => {
    const s = renderKernelBalancing(results);
    expect(s.id).toBe('kernel-balancing');
    expect(s.markdown).toMatch(
      /\| kernel NAT \(nft\) \| 9999 \| 9504, 9999, 10197 \|.*\| 198\.51\.100\.10 \|/,
    );
    expect(s.markdown).toMatch(/\| iolab balance \| 5000 \|.*\| 203\.0\.113\.2 \|/);
    expect(s.markdown).toContain('| nginx stream | **skipped**: nginx is not installed |');
    expect(s.markdown).toContain('3 interleaved windows of 1 s per target');
    expect(s.markdown).toContain('1: direct → iolab → nft NAT; 2: iolab → nft NAT → direct');
    expect(s.markdown).toContain("Welch's t on the log");
    expect(s.markdown).toContain('DR did not work here: nft refused the DR ruleset: fwd unsupported');
    expect(s.markdown).toContain(
      "| preempt on | master's balancer killed (SIGKILL) | dir2 | 3200 | 50/70 | 90/120 | ECONNREFUSED | 0/11 |",
    );
  });

  it('states each comparison as a verdict with its CI, and words the conclusions from those verdicts', () => {
    const s = renderKernelBalancing(results);
    const v = s.verdicts ?? [];
    // nft vs iolab (req/s), iolab and nft vs direct (hop), nft vs iolab (CPU): haproxy/nginx are not here.
    expect(v).toHaveLength(4);
    for (const x of v) {
      expect(x.experiment).toBe(KERNEL_EXPERIMENT);
      expect(x.connections).toBe(QUICK_PLAN.connections);
      expect(x.ci95[0]).toBeLessThanOrEqual(x.ratio);
      expect(x.ci95[1]).toBeGreaterThanOrEqual(x.ratio);
    }
    const nftVsIolab = v.find((x) => x.workload === WORKLOADS.throughput)!;
    expect(nftVsIolab.winner).toBe('kernel NAT (nft)');
    expect(nftVsIolab.ratio).toBeCloseTo(1.98, 1);
    const nftHop = v.find((x) => x.workload === WORKLOADS.hop && x.runnerUp !== 'iolab balance');
    expect(nftHop?.winner).toBeNull();
    expect(nftHop?.significant).toBe(false);
    const iolabHop = v.find((x) => x.workload === WORKLOADS.hop && x.runnerUp === 'iolab balance');
    expect(iolabHop?.winner).toBe('direct (no director)');
    // Requests per director CPU-second: nft ≈ 1 / 4.2 µs, iolab 1 / 45 µs.
    const cpu = v.find((x) => x.workload === WORKLOADS.cpu)!;
    expect(cpu.winner).toBe('kernel NAT (nft)');
    expect(cpu.ratio).toBeCloseTo(45 / (180_000 / 19_800 - 5 + 2_000 / 19_800), 0);
    // One conclusion per verdict, in its words: a tie says "tie within noise", a winner is named.
    expect(s.conclusions.slice(0, 4)).toEqual([
      `kernel NAT (nft) vs iolab balance, req/s: ${describeVerdict(nftVsIolab)}`,
      `hop cost of iolab balance (req/s against direct (no director)): ${describeVerdict(iolabHop!)}`,
      `hop cost of kernel NAT (nft) (req/s against direct (no director)): ${describeVerdict(nftHop!)}`,
      `director CPU per request, kernel NAT (nft) vs iolab balance (requests per director CPU-second): ${describeVerdict(cpu)}`,
    ]);
    expect(s.conclusions[2]).toContain('tie within noise');
    expect(s.markdown).toContain(`- ${s.conclusions[0]}`);
  });

  it('states no CPU verdict when a window had no director CPU above the direct run', () => {
    const noSoftirq = results.targets.map((t) =>
      t.target === 'nft NAT' ? { ...t, runs: t.runs.map((r) => ({ ...r, procCpuMs: 0, softirqMs: 0 })) } : t,
    );
    const s = renderKernelBalancing({ ...results, targets: noSoftirq });
    expect(s.verdicts?.some((x) => x.workload === WORKLOADS.cpu)).toBe(false);
    expect(s.conclusions).toContain(
      "director CPU per request, kernel NAT (nft) vs iolab balance (requests per director CPU-second): no verdict — a window had no director CPU above the direct run's (softirq is tick-sampled; see the method)",
    );
  });

  it('a failed target is named and takes no part in a verdict', () => {
    const failed = results.targets.map((t) =>
      t.target === 'iolab'
        ? { ...t, status: 'failed' as const, reason: '900 errors in 30000 requests (over 1 %)' }
        : t,
    );
    const s = renderKernelBalancing({ ...results, targets: failed });
    // Only the kernel director's hop cost is left.
    expect(s.verdicts).toHaveLength(1);
    expect(s.verdicts?.[0]?.workload).toBe(WORKLOADS.hop);
    expect(s.verdicts?.flatMap((x) => [x.winner, x.runnerUp])).not.toContain('iolab balance');
    expect(s.conclusions).toContain('iolab balance failed: 900 errors in 30000 requests (over 1 %)');
    expect(s.markdown).toContain('| iolab balance | **failed**: 900 errors');
  });

  it('a run without root is a section that says so, not an error', () => {
    const s = renderKernelBalancing({
      ...results,
      status: 'skipped',
      reason: 'needs root: the network lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)',
    });
    expect(s.markdown).toContain('**skipped: needs root');
    expect(s.conclusions).toEqual([
      'skipped: needs root: the network lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { renderKernelBalancing, targetFigures } from './kernel-balancing-report.js';
import type { KernelBalancingResults, TargetResult } from './run-kernel-balancing.js';
import { QUICK_PLAN } from './run-kernel-balancing.js';

function target(
  name: TargetResult['target'],
  rps: number,
  procCpuMs: number,
  softirqMs: number,
  machineBusyMs: number,
  seen: string,
): TargetResult {
  const requests = rps * 2;
  return {
    target: name,
    status: 'ok',
    runs: [
      {
        requests,
        requestsPerSec: rps,
        p50Ms: 1,
        p99Ms: 5,
        errors: 0,
        non2xx: 0,
        procCpuMs,
        softirqMs,
        machineBusyMs,
        commandLine: 'wrk',
      },
    ],
    seen: { [seen]: 6 },
    servers: { rs1: 2, rs2: 2, rs3: 2 },
    commandLine: '',
  };
}

const results: KernelBalancingResults = {
  status: 'ok',
  quick: true,
  plan: QUICK_PLAN,
  clientAddress: '198.51.100.10',
  vip: '198.51.100.100',
  realServerKind: 'nginx',
  targets: [
    target('direct', 10_000, 0, 100, 2_000, '198.51.100.10'),
    target('iolab', 5_000, 400, 100, 1_800, '203.0.113.2'),
    target('nft NAT', 9_000, 2, 180, 1_980, '198.51.100.10'),
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
    // iolab: 400 ms over 10,000 requests = 40 µs; softirq 100 ms / 10,000 = 10 µs = direct's 5 µs + 5.
    expect(f.get('iolab')?.processUs).toBeCloseTo(40);
    expect(f.get('iolab')?.directorUs).toBeCloseTo(45);
    // nft: 180 ms / 18,000 = 10 µs softirq, 5 above direct; process 2 ms / 18,000 ≈ 0.11 µs.
    expect(f.get('nft NAT')?.directorUs).toBeCloseTo(5.11, 1);
    expect(f.get('nft NAT')?.addedUs).toBeCloseTo(1_980_000 / 18_000 - 2_000_000 / 20_000);
    expect(f.has('nginx')).toBe(false);
  });

  it('renders the targets table with the client-address column, skipped targets, DR and failover rows', () => {
    const s = renderKernelBalancing(results);
    expect(s.id).toBe('kernel-balancing');
    expect(s.markdown).toMatch(/\| nft NAT \| 9000 \|.*\| 198\.51\.100\.10 \|/);
    expect(s.markdown).toMatch(/\| iolab \| 5000 \|.*\| 203\.0\.113\.2 \|/);
    expect(s.markdown).toContain('| nginx | skipped: nginx is not installed |');
    expect(s.markdown).toContain('DR did not work here: nft refused the DR ruleset: fwd unsupported');
    expect(s.markdown).toContain(
      "| preempt on | master's balancer killed (SIGKILL) | dir2 | 3200 | 50/70 | 90/120 | ECONNREFUSED | 0/11 |",
    );
    expect(s.conclusions[0]).toBe(
      'kernel NAT (nft) served 9000 req/s, 1.80× iolab balance (5000); director cost 5.1 vs 45.0 µs per request, added machine CPU 10.0 vs 80.0 µs per request',
    );
    expect(s.results).toBe(results);
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

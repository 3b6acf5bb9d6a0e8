/**
 * Every comparison the kernel-balancing section states, each with the 95 % CI of its ratio from the
 * per-window figures (Welch's t on the logs, from the harness):
 *
 *   req/s          the kernel NAT director against each user-space proxy
 *   hop cost       each director (proxies and kernel NAT) against direct, by req/s
 *   director CPU   the kernel NAT director against each proxy, by requests per director CPU-second
 *
 * Only targets whose status is `ok` take part. A winner is named only when the interval excludes 1; the
 * section's conclusions are worded from these verdicts, so the two cannot disagree.
 */
import { describeVerdict, type Verdict, verdictOf } from '@iolab/harness';
import type { LoadRun } from './lab-processes.js';
import type { KernelBalancingResults, TargetResult } from './run-kernel-balancing.js';
import type { TargetName } from './targets.js';

/** The `experiment` of every verdict here: one row block of the report's verdict matrix. */
export const KERNEL_EXPERIMENT = 'kernel balancing';

/** How the report names each target (also the names in `verdicts`). */
export const TARGET_LABELS: Readonly<Record<TargetName, string>> = {
  direct: 'direct (no director)',
  iolab: 'iolab balance',
  'iolab+PROXY v2': 'iolab balance + PROXY v2',
  haproxy: 'HAProxy',
  nginx: 'nginx stream',
  'nft NAT': 'kernel NAT (nft)',
};

/** The `workload` of each kind of comparison (rows of the verdict matrix). */
export const WORKLOADS = {
  throughput: 'HTTP keep-alive (wrk), req/s: kernel NAT vs user-space proxy',
  hop: 'HTTP keep-alive (wrk), req/s: through a director vs direct (the hop cost)',
  cpu: 'HTTP keep-alive (wrk), requests per director CPU-second: kernel NAT vs proxy',
} as const;

const PROXIES: readonly TargetName[] = ['iolab', 'haproxy', 'nginx'];
const DIRECTORS: readonly TargetName[] = [...PROXIES, 'nft NAT'];

export interface KernelComparison {
  readonly kind: keyof typeof WORKLOADS;
  readonly a: TargetName;
  readonly b: TargetName;
  /** Undefined when the figures allow no interval (fewer than two windows, or a window with no figure). */
  readonly verdict: Verdict | undefined;
}

/** Softirq per request of the direct run (mean over its windows): the part of softirq no director caused. */
function baselineSoftirqPerRequest(targets: readonly TargetResult[]): number {
  const direct = targets.find((t) => t.target === 'direct' && t.status === 'ok');
  const perReq = (direct?.runs ?? []).filter((r) => r.requests > 0).map((r) => r.softirqMs / r.requests);
  return perReq.length === 0 ? 0 : perReq.reduce((a, x) => a + x, 0) / perReq.length;
}

/**
 * The director's CPU in one window, ms: the forwarding process (for the kernel director, its health checker)
 * plus the machine's softirq above what the direct run had per request. Zero or less means "not measured".
 */
export function directorCpuMs(run: LoadRun, baseSoftirqPerRequest: number): number {
  return run.procCpuMs + run.softirqMs - baseSoftirqPerRequest * run.requests;
}

/** All comparisons the section states, in the order the conclusions list them. */
export function kernelComparisons(
  results: Pick<KernelBalancingResults, 'targets' | 'plan'>,
): KernelComparison[] {
  const ok = new Map(results.targets.filter((t) => t.status === 'ok').map((t) => [t.target, t]));
  const base = baselineSoftirqPerRequest(results.targets);
  const rps = (t: TargetResult): number[] => t.runs.map((r) => r.requestsPerSec);
  const perCpuSecond = (t: TargetResult): number[] =>
    t.runs.map((r) => {
      const cpu = directorCpuMs(r, base);
      return cpu > 0 ? (r.requests * 1000) / cpu : 0;
    });
  const compare = (
    kind: KernelComparison['kind'],
    a: TargetName,
    b: TargetName,
    pick: (t: TargetResult) => number[],
  ): KernelComparison | undefined => {
    const ta = ok.get(a);
    const tb = ok.get(b);
    if (!ta || !tb) return undefined;
    const verdict = verdictOf(
      { experiment: KERNEL_EXPERIMENT, workload: WORKLOADS[kind], connections: results.plan.connections },
      { name: TARGET_LABELS[a], windows: pick(ta) },
      { name: TARGET_LABELS[b], windows: pick(tb) },
    );
    return { kind, a, b, verdict: verdict ?? undefined };
  };
  const out: (KernelComparison | undefined)[] = [
    ...PROXIES.map((p) => compare('throughput', 'nft NAT', p, rps)),
    ...DIRECTORS.map((d) => compare('hop', d, 'direct', rps)),
    ...PROXIES.map((p) => compare('cpu', 'nft NAT', p, perCpuSecond)),
  ];
  return out.filter((c): c is KernelComparison => c !== undefined);
}

/** The verdicts for results.json (comparisons that allowed an interval). */
export function kernelVerdicts(results: Pick<KernelBalancingResults, 'targets' | 'plan'>): Verdict[] {
  return kernelComparisons(results).flatMap((c) => (c.verdict ? [c.verdict] : []));
}

/** One conclusion per comparison, both names spelled out (a tie's verdict names only the runner-up). */
export function comparisonLine(c: KernelComparison): string {
  const a = TARGET_LABELS[c.a];
  const b = TARGET_LABELS[c.b];
  const head =
    c.kind === 'throughput'
      ? `${a} vs ${b}, req/s`
      : c.kind === 'hop'
        ? `hop cost of ${a} (req/s against ${b})`
        : `director CPU per request, ${a} vs ${b} (requests per director CPU-second)`;
  if (!c.verdict) {
    return c.kind === 'cpu'
      ? `${head}: no verdict — a window had no director CPU above the direct run's (softirq is tick-sampled; see the method)`
      : `${head}: no verdict — fewer than two windows with answers`;
  }
  return `${head}: ${describeVerdict(c.verdict)}`;
}

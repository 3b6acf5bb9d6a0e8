/**
 * Every comparison the balancer section states, with the 95 % CI of its ratio from the per-window figures
 * (Welch's t on log throughput / log p99, from the harness): iolab balance against HAProxy, nginx stream and
 * the naive pipe proxy, and each promised target. One wording serves the section and the conclusions, so the
 * two can never read differently.
 */
import {
  describeVerdict,
  median,
  ratioWithCi,
  SATURATION_CPU_PERCENT,
  type Verdict,
  verdictOf,
} from '@iolab/harness';
import {
  type BalancerExperimentResults,
  type ClientName,
  RATIO_TARGETS,
  type RunResult,
  type TargetName,
} from './results.js';

/** How the report names each proxy (also the names in `verdicts`). */
export const TARGET_LABELS: Record<TargetName, string> = {
  direct: 'direct (no proxy)',
  iolab: 'iolab balance',
  haproxy: 'HAProxy',
  nginx: 'nginx stream',
  naive: 'naive pipe proxy',
};

const PEERS: readonly TargetName[] = ['haproxy', 'nginx', 'naive'];

function windows(
  runs: readonly RunResult[],
  client: ClientName,
  target: TargetName,
  pick: (r: RunResult) => number,
): number[] {
  return runs.filter((r) => r.client === client && r.target === target).map(pick);
}

function clientsOf(runs: readonly RunResult[]): ClientName[] {
  return [...new Set(runs.map((r) => r.client))];
}

/** The `workload` of a balancer verdict: the traffic and the client that generated it. */
export function balancerWorkload(client: ClientName): string {
  return `HTTP keep-alive via proxy (${client})`;
}

interface Comparison {
  readonly client: ClientName;
  readonly peer: TargetName;
  readonly verdict: Verdict;
  /** Set when the client was at its core's limit against either side: then it, not a proxy, set the pace. */
  readonly starved?: string;
}

/**
 * Why a client's figures against these targets prove nothing, if they do not: its median CPU over the
 * windows of either target reached the harness's saturation share of its core.
 */
function starvation(
  runs: readonly RunResult[],
  client: ClientName,
  targets: readonly TargetName[],
): string | undefined {
  for (const target of targets) {
    const cpu = median(
      windows(runs, client, target, (r) => r.clientCpuPercent ?? Number.NaN).filter(Number.isFinite),
    );
    if (cpu !== null && cpu >= SATURATION_CPU_PERCENT)
      return `${client} used ${cpu.toFixed(0)} % of its core against ${TARGET_LABELS[target]}, so it may have set the pace`;
  }
  return undefined;
}

function comparisons(results: Pick<BalancerExperimentResults, 'runs' | 'settings'>): Comparison[] {
  const out: Comparison[] = [];
  for (const client of clientsOf(results.runs)) {
    const iolab = windows(results.runs, client, 'iolab', (r) => r.requestsPerSecond);
    for (const peer of PEERS) {
      const starved = starvation(results.runs, client, ['iolab', peer]);
      const verdict = verdictOf(
        {
          experiment: 'balancer',
          workload: balancerWorkload(client),
          connections: results.settings.connections,
        },
        { name: TARGET_LABELS.iolab, windows: iolab },
        {
          name: TARGET_LABELS[peer],
          windows: windows(results.runs, client, peer, (r) => r.requestsPerSecond),
        },
      );
      if (verdict) out.push({ client, peer, verdict, ...(starved ? { starved } : {}) });
    }
  }
  return out;
}

/**
 * iolab balance against each peer by throughput, per client; winner only when the CI excludes 1. A comparison
 * whose client was starved is inconclusive and states no verdict at all (its line says why).
 */
export function balancerVerdicts(results: Pick<BalancerExperimentResults, 'runs' | 'settings'>): Verdict[] {
  return comparisons(results)
    .filter((c) => !c.starved)
    .map((c) => c.verdict);
}

/**
 * "iolab balance vs HAProxy (wrk, 64 connections): tie within noise (1.05×, 95 % CI 0.91–1.21)" — both
 * names are spelled out, since a tie's verdict names only the runner-up.
 */
export function balancerVerdictLines(
  results: Pick<BalancerExperimentResults, 'runs' | 'settings'>,
): string[] {
  return comparisons(results).map(
    (c) =>
      `${TARGET_LABELS.iolab} vs ${TARGET_LABELS[c.peer]} (${c.client}, ${c.verdict.connections.toLocaleString('en-US')} connections): ${c.starved ? `inconclusive — ${c.starved}` : describeVerdict(c.verdict)}`,
  );
}

export type TargetOutcome =
  | 'inconclusive: client starved'
  | 'met'
  | 'NOT met'
  | 'undecided within noise'
  | 'met (no CI: one window)'
  | 'NOT met (no CI: one window)';

export interface TargetCheck {
  readonly label: string;
  readonly client: ClientName;
  readonly value: number;
  readonly ci95: readonly [number, number] | null;
  readonly op: '≥' | '≤';
  readonly target: number;
  readonly outcome: TargetOutcome;
}

/**
 * Each promised target, judged on its interval: met when the whole interval is on the right side of the
 * target, NOT met when the whole interval is on the wrong side, undecided within noise otherwise.
 */
export function targetChecks(runs: readonly RunResult[]): TargetCheck[] {
  const specs = [
    {
      label: 'iolab ÷ HAProxy throughput',
      peer: 'haproxy',
      pick: (r: RunResult) => r.requestsPerSecond,
      op: '≥',
      target: RATIO_TARGETS.throughputVsHaproxy,
    },
    {
      label: 'iolab ÷ HAProxy p99',
      peer: 'haproxy',
      pick: (r: RunResult) => r.p99Ms,
      op: '≤',
      target: RATIO_TARGETS.p99VsHaproxy,
    },
    {
      label: 'iolab ÷ naive throughput',
      peer: 'naive',
      pick: (r: RunResult) => r.requestsPerSecond,
      op: '≥',
      target: RATIO_TARGETS.throughputVsNaive,
    },
  ] as const;
  const out: TargetCheck[] = [];
  for (const spec of specs) {
    for (const client of clientsOf(runs)) {
      const a = windows(runs, client, 'iolab', spec.pick);
      const b = windows(runs, client, spec.peer, spec.pick);
      if (a.length === 0 || b.length === 0) continue;
      const est = ratioWithCi(a, b);
      const geo = (xs: number[]): number => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
      const value = est?.ratio ?? geo(a) / geo(b);
      const good = (x: number): boolean => (spec.op === '≥' ? x >= spec.target : x <= spec.target);
      let outcome: TargetOutcome;
      if (starvation(runs, client, ['iolab', spec.peer])) outcome = 'inconclusive: client starved';
      else if (!est) outcome = good(value) ? 'met (no CI: one window)' : 'NOT met (no CI: one window)';
      else if (good(est.ci95[0]) && good(est.ci95[1])) outcome = 'met';
      else if (!good(est.ci95[0]) && !good(est.ci95[1])) outcome = 'NOT met';
      else outcome = 'undecided within noise';
      if (!Number.isFinite(value)) continue;
      out.push({
        label: spec.label,
        client,
        value,
        ci95: est ? est.ci95 : null,
        op: spec.op,
        target: spec.target,
        outcome,
      });
    }
  }
  return out;
}

/** "iolab ÷ HAProxy throughput (wrk): 0.95× (95 % CI 0.88–1.02), target ≥ 0.9× — undecided within noise". */
export function targetLine(t: TargetCheck): string {
  const ci = t.ci95 ? ` (95 % CI ${t.ci95[0].toFixed(2)}–${t.ci95[1].toFixed(2)})` : '';
  return `${t.label} (${t.client}): ${t.value.toFixed(2)}×${ci}, target ${t.op} ${t.target}× — ${t.outcome}`;
}

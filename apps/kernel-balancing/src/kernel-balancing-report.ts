/**
 * Results → the report section (Markdown tables and one-line conclusions), computed only from the results.
 */
import { median, type ReportSection, renderTable } from '@iolab/harness';
import { comparisonLine, kernelComparisons, TARGET_LABELS } from './kernel-balancing-verdicts.js';
import type { KernelBalancingResults, TargetResult } from './run-kernel-balancing.js';

export const SECTION_ID = 'kernel-balancing';
export const SECTION_TITLE = 'Kernel vs user-space balancing (network-namespace lab, LVS-NAT/DR, keepalived)';

/** The harness's one median, over the finite figures only (a run with no requests has none); NaN for none. */
function finiteMedian(xs: readonly number[]): number {
  return median(xs.filter(Number.isFinite)) ?? Number.NaN;
}

const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

export interface TargetFigures {
  readonly target: string;
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Forwarding process CPU per request, µs. */
  readonly processUs: number;
  /** Machine softirq per request, µs. */
  readonly softirqUs: number;
  /** Process + softirq above the direct baseline's, µs per request: what the director costs. */
  readonly directorUs: number;
  /** Whole-machine busy CPU per request, µs. */
  readonly machineUs: number;
  /** Machine busy CPU per request above the direct run's: the cost the director adds, wherever it was booked. */
  readonly addedUs: number;
  /** req/s of each window, in window order. */
  readonly windows: readonly number[];
  readonly seen: string;
}

/** Per-target medians and the director cost, with direct's softirq per request as the baseline. */
export function targetFigures(targets: readonly TargetResult[]): TargetFigures[] {
  const perReq = (t: TargetResult, f: (r: TargetResult['runs'][number]) => number): number =>
    finiteMedian(t.runs.map((r) => (r.requests > 0 ? (f(r) * 1000) / r.requests : Number.NaN)));
  const direct = targets.find((t) => t.target === 'direct' && t.status === 'ok');
  const baseSoft = direct ? perReq(direct, (r) => r.softirqMs) : 0;
  const baseMachine = direct ? perReq(direct, (r) => r.machineBusyMs) : Number.NaN;
  return targets
    .filter((t) => t.status === 'ok')
    .map((t) => {
      const processUs = perReq(t, (r) => r.procCpuMs);
      const softirqUs = perReq(t, (r) => r.softirqMs);
      const machineUs = perReq(t, (r) => r.machineBusyMs);
      const rps = t.runs.map((r) => r.requestsPerSec);
      return {
        target: t.target,
        rps: finiteMedian(rps),
        rpsMin: Math.min(...rps),
        rpsMax: Math.max(...rps),
        p50Ms: finiteMedian(t.runs.map((r) => r.p50Ms)),
        p99Ms: finiteMedian(t.runs.map((r) => r.p99Ms)),
        errors: t.runs.reduce((a, r) => a + r.errors + r.non2xx, 0),
        processUs,
        softirqUs,
        directorUs:
          t.target === 'direct'
            ? 0
            : processUs + Math.max(0, softirqUs - (Number.isFinite(baseSoft) ? baseSoft : 0)),
        machineUs,
        addedUs: t.target === 'direct' ? 0 : machineUs - baseMachine,
        windows: rps,
        seen: Object.keys(t.seen).join(', ') || '–',
      };
    });
}

export function renderKernelBalancing(r: KernelBalancingResults): ReportSection {
  const conclusions: string[] = [];
  const md: string[] = [];
  if (r.status === 'skipped') {
    return {
      id: SECTION_ID,
      title: SECTION_TITLE,
      markdown: `**skipped: ${r.reason}**\n\nRun as root (CAP_NET_ADMIN + CAP_SYS_ADMIN) with nftables, keepalived and wrk installed.\n`,
      conclusions: [`skipped: ${r.reason}`],
      charts: [],
      commands: [],
      results: r,
    };
  }
  const figures = targetFigures(r.targets);
  const comparisons = kernelComparisons(r);
  const windowLines = r.windowOrder.map((order, i) => `${i + 1}: ${order.join(' → ')}`).join('; ');
  md.push(
    `Lab: client ${r.clientAddress} → VIP ${r.vip} on director 1 → three real servers, all in network namespaces on two bridges (RFC 5737 addresses that exist only there). ` +
      `Every target is up for the whole group, each on its own port of the VIP ("direct" on a second address of rs1, whose replies a policy rule sends through the router while NAT replies go through the director). ` +
      `Load: wrk (one thread) in the client namespace, ${r.plan.connections} connections, ${r.plan.windows} interleaved windows of ${r.plan.durationSec} s per target${r.plan.warmupSec ? ` after ${r.plan.warmupSec} s of warm-up (all targets loaded at once: it only has to run each path)` : ' (no warm-up)'}; ` +
      `window w measures the targets in the list rotated by w (A B C D E, B C D E A, …), so drift on the shared machine hits every target alike (order: ${windowLines || 'none'}). ` +
      "Verdicts: 95 % confidence interval of the ratio of geometric means over the windows, by Welch's t on the log of each window's figure; a winner is named only when the interval excludes 1. " +
      `A target is "failed" and takes no part when its errors exceed 1 % of its requests. ` +
      '"iolab balance + PROXY v2" is only asked which client address the servers saw: its forwarding is iolab balance\'s plus one header per connection, so its windows would add time and nothing to read. ' +
      `Real servers: ${r.realServerKind === 'nginx' ? 'nginx (one process each, `return 200`, the cheapest server at hand so the director sets the pace)' : 'Node HTTP (one process each; nginx was not available)'}. ` +
      "Director µs/req = the forwarding process's CPU (/proc/PID/stat) + the machine's softirq time (/proc/stat) above the direct run's; for the nft NAT director the process only health-checks and the kernel forwards. " +
      "Softirq is the whole machine's (namespaces share one kernel), tick-sampled on kernels without CONFIG_IRQ_TIME_ACCOUNTING: above the direct run's it is the extra packet work of the extra hop, which for a proxy also holds its second TCP connection's. " +
      'The CPU verdict compares requests per director CPU-second (the reciprocal of director µs/req) per window. ' +
      "\"added CPU\" (whole-machine busy time per request above the direct run's) counts the forwarding wherever the kernel booked it, but also holds the real servers' and wrk's extra work and everyone else's on a shared machine: it is shown, not judged.",
    '',
    renderTable(
      [
        'target',
        { title: 'req/s (median)', align: 'right' },
        { title: 'req/s per window', align: 'right' },
        { title: 'p50 ms', align: 'right' },
        { title: 'p99 ms', align: 'right' },
        { title: 'errors', align: 'right' },
        'client address the real server saw',
      ],
      [
        ...figures.map((f) => [
          TARGET_LABELS[f.target as keyof typeof TARGET_LABELS] ?? f.target,
          f.windows.length ? fmt(f.rps) : 'not loaded',
          f.windows.map((x) => fmt(x)).join(', ') || '–',
          fmt(f.p50Ms, 2),
          fmt(f.p99Ms, 2),
          String(f.errors),
          f.seen,
        ]),
        ...r.targets
          .filter((t) => t.status !== 'ok')
          .map((t) => [
            TARGET_LABELS[t.target],
            `**${t.status}**: ${t.reason ?? ''}`,
            t.runs.map((x) => fmt(x.requestsPerSec)).join(', ') || '–',
            '',
            '',
            '',
            Object.keys(t.seen).join(', ') || '–',
          ]),
      ],
    ),
    '',
    renderTable(
      [
        'target',
        { title: 'director µs/req', align: 'right' },
        { title: 'process µs/req', align: 'right' },
        { title: 'softirq µs/req', align: 'right' },
        { title: 'added CPU µs/req', align: 'right' },
      ],
      figures
        .filter((f) => f.windows.length > 0)
        .map((f) => [
          TARGET_LABELS[f.target as keyof typeof TARGET_LABELS] ?? f.target,
          fmt(f.directorUs, 1),
          fmt(f.processUs, 1),
          fmt(f.softirqUs, 1),
          fmt(f.addedUs, 1),
        ]),
    ),
    '',
  );
  const lines = comparisons.map(comparisonLine);
  if (lines.length) md.push('Verdicts (95 % CI of the ratio):', '', ...lines.map((l) => `- ${l}`), '');
  conclusions.push(...lines);
  const seenLine = figures
    .filter((f) => f.target !== 'direct')
    .map((f) => `${TARGET_LABELS[f.target as keyof typeof TARGET_LABELS] ?? f.target}: ${f.seen}`)
    .join('; ');
  if (seenLine)
    conclusions.push(
      `client address seen by the real servers — ${seenLine} (the client is ${r.clientAddress})`,
    );
  for (const t of r.targets.filter((x) => x.status === 'failed'))
    conclusions.push(`${TARGET_LABELS[t.target]} failed: ${t.reason ?? 'unknown'}`);

  md.push('### Direct routing (DR)', '');
  const dr = r.directRouting;
  if (!dr) md.push('not run', '');
  else if (!('ruleset' in dr) || !dr.works) {
    md.push(`DR did not work here: ${dr.reason ?? 'unknown'}`, '');
    conclusions.push(`DR: does not work here: ${dr.reason}`);
  } else {
    md.push(
      'The director rewrites only the destination MAC (netdev ingress, `ether daddr set … fwd to "back"`); real servers hold the VIP on loopback (arp_ignore=1, arp_announce=2) and reply through the router.',
      '',
      '| director: requests rewritten (packets) | director: replies crossing it | router: replies forwarded | req/s | p99 ms | client address seen |',
      '|---:|---:|---:|---:|---:|---|',
      `| ${dr.directorInbound} | ${dr.directorReturn} | ${dr.routerReplies} | ${fmt(dr.load?.requestsPerSec ?? Number.NaN)} | ${fmt(dr.load?.p99Ms ?? Number.NaN, 2)} | ${[...new Set(dr.answers.map((a) => a.seen))].join(', ')} |`,
      '',
      '```',
      dr.ruleset.trim(),
      '```',
      '',
    );
    conclusions.push(
      `DR works: ${dr.directorInbound} request packets through the director, ${dr.directorReturn} reply packets (the router forwarded ${dr.routerReplies})`,
    );
  }
  md.push('TUN mode (IPIP encapsulation) is not attempted: this kernel class has no IPIP.', '');

  md.push('### Failover: keepalived VRRP pair in front of two `iolab balance`', '');
  const fo = r.failover;
  if (!fo) md.push('not run', '');
  else if ('error' in fo) {
    md.push(`failed: ${fo.error}`, '');
    conclusions.push(`failover: not measured: ${fo.error}`);
  } else {
    md.push(
      `advert_int ${fo.advertIntervalSec} s, track script (a TCP connect to the balancer's port on loopback, every 1 s, fall 2, rise 2, weight −80 against a priority gap of 50). Probe: a new connection every 50 ms and four keep-alive connections asking every 100 ms, 1 s timeout each. "recovery" = from the event to the first new connection answered through the expected director.`,
      '',
      '| pass | event | expected | recovery ms | new-conn errors | established errors | error kinds | new conns served dir1/dir2 |',
      '|---|---|---|---:|---:|---:|---|---|',
      ...fo.events.map(
        (e) =>
          `| ${e.pass} | ${e.event} | ${e.expect} | ${e.recoveryMs === undefined ? 'not recovered' : fmt(e.recoveryMs)} | ${e.newErrors}/${e.newTotal} | ${e.establishedErrors}/${e.establishedTotal} | ${e.errorKinds.join(', ') || '–'} | ${e.servedBy.dir1 ?? 0}/${e.servedBy.dir2 ?? 0} |`,
      ),
      '',
      '<details><summary>keepalived.conf written by iolab (director 1)</summary>',
      '',
      '```',
      fo.keepalivedConfig.trim(),
      '```',
      '</details>',
      '',
    );
    for (const e of fo.events) {
      conclusions.push(
        `failover (${e.pass}): ${e.event}: ${e.recoveryMs === undefined ? 'not recovered' : `${fmt(e.recoveryMs)} ms`} to ${e.expect}, ${e.newErrors} new-connection and ${e.establishedErrors} established-connection errors`,
      );
    }
  }
  return {
    id: SECTION_ID,
    title: SECTION_TITLE,
    markdown: md.join('\n'),
    conclusions,
    charts: [],
    commands: r.commands,
    results: r,
    verdicts: comparisons.flatMap((c) => (c.verdict ? [c.verdict] : [])),
  };
}

/**
 * Results → the report section (Markdown tables and one-line conclusions), computed only from the results.
 */
import { median, type ReportSection } from '@iolab/harness';
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
  md.push(
    `Lab: client ${r.clientAddress} → VIP ${r.vip} on director 1 → three real servers, all in network namespaces on two bridges (RFC 5737 addresses that exist only there). ` +
      `Load: wrk in the client namespace, ${r.plan.connections} connections, ${r.plan.durationSec} s × ${r.plan.repetitions}${r.plan.warmupSec ? ` after ${r.plan.warmupSec} s warm-up` : ''}. ` +
      `Real servers: ${r.realServerKind === 'nginx' ? 'nginx (one process each, `return 200`, the cheapest server at hand so the director sets the pace)' : 'Node HTTP (one process each; nginx was not available)'}. ` +
      '"direct" is the client against rs1 alone, with no director. ' +
      "Director µs/req = the forwarding process's CPU (/proc/PID/stat) + the machine's softirq time (/proc/stat) above the direct run's; for the nft NAT director the process only health-checks and the kernel forwards. " +
      "Softirq is tick-sampled on kernels without CONFIG_IRQ_TIME_ACCOUNTING, and softirq work done on a syscall path (veth delivers that way) is booked to that process as system time, so \"added CPU\" (whole-machine busy time per request above the direct run's) counts the forwarding wherever the kernel booked it; it also holds the real servers' and wrk's extra work, and is noise on a shared machine.",
    '',
    '| target | req/s (median) | range | p50 ms | p99 ms | errors | director µs/req | process µs/req | softirq µs/req | added CPU µs/req | client address the real server saw |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...figures.map(
      (f) =>
        `| ${f.target} | ${fmt(f.rps)} | ${fmt(f.rpsMin)}–${fmt(f.rpsMax)} | ${fmt(f.p50Ms, 2)} | ${fmt(f.p99Ms, 2)} | ${f.errors} | ${fmt(f.directorUs, 1)} | ${fmt(f.processUs, 1)} | ${fmt(f.softirqUs, 1)} | ${fmt(f.addedUs, 1)} | ${f.seen} |`,
    ),
    ...r.targets
      .filter((t) => t.status !== 'ok')
      .map((t) => `| ${t.target} | ${t.status}: ${t.reason ?? ''} | | | | | | | | | |`),
    '',
  );
  const by = new Map(figures.map((f) => [f.target, f]));
  const nft = by.get('nft NAT');
  const iolab = by.get('iolab');
  if (nft && iolab) {
    conclusions.push(
      `kernel NAT (nft) served ${fmt(nft.rps)} req/s, ${fmt(nft.rps / iolab.rps, 2)}× iolab balance (${fmt(iolab.rps)}); director cost ${fmt(nft.directorUs, 1)} vs ${fmt(iolab.directorUs, 1)} µs per request, added machine CPU ${fmt(nft.addedUs, 1)} vs ${fmt(iolab.addedUs, 1)} µs per request`,
    );
  }
  for (const peer of ['haproxy', 'nginx'] as const) {
    const p = by.get(peer);
    if (p && nft)
      conclusions.push(
        `${peer}: ${fmt(p.rps)} req/s, director cost ${fmt(p.directorUs, 1)} µs/req, added machine CPU ${fmt(p.addedUs, 1)} µs/req (nft NAT ${fmt(nft.directorUs, 1)} / ${fmt(nft.addedUs, 1)})`,
      );
  }
  const seenLine = figures
    .filter((f) => f.target !== 'direct')
    .map((f) => `${f.target}: ${f.seen}`)
    .join('; ');
  if (seenLine)
    conclusions.push(
      `client address seen by the real servers — ${seenLine} (the client is ${r.clientAddress})`,
    );

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
  };
}

/**
 * One-line findings computed from the results — which model wins which workload and by what ratio, where
 * bio ran out, what the main-thread relay costs, what each model sustains open-loop. No number here is
 * typed in by hand: each comes from a cell of this run, and a finding is left out when its cells are missing.
 */
import type { WorkloadId } from './matrix.js';
import { type ModelId, modelSpecs } from './models.js';
import { startupWords } from './run-group.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';
import { relayLine, relayVerdicts, withheldVerdicts } from './verdicts.js';

/** "1 connection", "1,000 connections". */
function connectionCount(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'connection' : 'connections'}`;
}

export function fmtRate(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function fmtMs(value: number | null): string {
  if (value === null) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function fmtRatio(value: number): string {
  return value >= 10 ? `${value.toFixed(0)}×` : `${value.toFixed(1)}×`;
}

function usable(cell: CellRecord | undefined): cell is CellRecord & { metrics: { requestsPerSec: number } } {
  return cell?.status === 'ok' && cell.summary?.status === 'ok' && cell.metrics.requestsPerSec !== null;
}

function cellOf(
  results: ThroughputResults,
  model: ModelId,
  workload: WorkloadId,
  conns: number,
): CellRecord | undefined {
  return results.cells.find((c) => c.model === model && c.workload === workload && c.connections === conns);
}

/** The connection count with the most usable cells for a workload (ties → the larger count). */
function bestConnectionCount(results: ThroughputResults, workload: WorkloadId): number | undefined {
  const counts = new Map<number, number>();
  for (const cell of results.cells) {
    if (cell.workload === workload && usable(cell))
      counts.set(cell.connections, (counts.get(cell.connections) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 1;
  for (const [conns, n] of counts) {
    if (n > bestCount || (n === bestCount && best !== undefined && conns > best)) {
      best = conns;
      bestCount = n;
    }
  }
  return best;
}

/**
 * The medians behind each workload's verdict, as a ranking and nothing more: who "wins" is said only by the
 * verdict lines (95 % CI), so this sentence never names a winner and cannot contradict them. A model given
 * every core is labelled, since it is not ranked against the single-core ones.
 */
function rankings(results: ThroughputResults): string[] {
  const allCores = new Set(
    modelSpecs()
      .filter((m) => m.needsAllCores)
      .map((m) => m.id),
  );
  const out: string[] = [];
  const workloads = [...new Set(results.cells.map((c) => c.workload))];
  for (const workload of workloads) {
    const conns = bestConnectionCount(results, workload);
    if (conns === undefined) continue;
    const ranked = results.cells
      .filter((c) => c.workload === workload && c.connections === conns && usable(c))
      .sort((a, b) => (b.metrics.requestsPerSec ?? 0) - (a.metrics.requestsPerSec ?? 0));
    const [first] = ranked;
    if (!first || ranked.length < 2) continue;
    out.push(
      `${first.workloadLabel} at ${connectionCount(conns)}, median req/s (ranking only; the verdicts above say what lies outside the noise): ` +
        ranked
          .map(
            (c) =>
              `${c.model}${allCores.has(c.model) ? ' (all cores)' : ''} ${fmtRate(c.metrics.requestsPerSec as number)} (p99 ${fmtMs(c.metrics.p99Ms)} ms)`,
          )
          .join(', ') +
        '.',
    );
  }
  return out;
}

function bioRanOut(results: ThroughputResults): string[] {
  const bio = results.cells
    .filter((c) => c.model === 'bio' && c.workload === 'plaintext' && c.status !== 'skipped')
    .sort((a, b) => a.connections - b.connections);
  if (bio.length === 0) return [];
  const out: string[] = [];
  const best = Math.max(0, ...bio.map((c) => c.metrics.requestsPerSec ?? 0));
  // Ran out: crashed, failed, refused, erred, or served under a tenth of its best rate.
  const broke = (c: CellRecord): boolean =>
    c.startup?.outcome !== 'did-not-start' &&
    (c.status === 'crashed' ||
      c.status === 'failed' ||
      (c.summary !== undefined &&
        (c.summary.refusals + c.summary.errors > 0 || (c.metrics.requestsPerSec ?? 0) < best / 10)));
  const failing = bio.find(broke);
  const held = [...bio].reverse().find((c) => c.status === 'ok' && !broke(c));
  if (failing) {
    const what =
      failing.status === 'ok' && failing.summary
        ? `${fmtRate(failing.metrics.requestsPerSec ?? 0)} req/s (best ${fmtRate(best)}), ${failing.summary.refusals.toLocaleString('en-US')} refusals and ${failing.summary.errors.toLocaleString('en-US')} errors/timeouts over the counted windows, ${failing.summary.serverThreads ?? '?'} threads, ${fmtMs(failing.summary.serverRssMiB)} MiB RSS${failing.summary.serverAliveAtEnd ? ', process still up' : ''}`
        : `${failing.status}: ${failing.reason ?? ''}`.slice(0, 200);
    out.push(`bio ran out at ${connectionCount(failing.connections)} on /plaintext: ${what}.`);
  } else if (held) {
    out.push(
      `bio did not run out within this run: it held ${connectionCount(held.connections)} without refusals.`,
    );
  }
  if (held?.summary) {
    const loop = cellOf(results, 'loop', 'plaintext', held.connections);
    const rssRatio =
      loop?.summary?.serverRssMiB && held.summary.serverRssMiB
        ? held.summary.serverRssMiB / loop.summary.serverRssMiB
        : null;
    out.push(
      `At ${connectionCount(held.connections)} bio ran ${held.summary.serverThreads ?? '?'} threads in ${fmtMs(held.summary.serverRssMiB)} MiB RSS` +
        (loop?.summary && rssRatio !== null
          ? ` — ${fmtRatio(rssRatio)} the memory of loop (${loop.summary.serverThreads ?? '?'} threads, ${fmtMs(loop.summary.serverRssMiB)} MiB).`
          : '.'),
    );
  }
  return out;
}

/** Start-up is its own finding: a model still starting threads at the cap did not "run out". */
function startup(results: ThroughputResults): string[] {
  const out: string[] = [];
  const notStarted = results.cells.filter((c) => c.startup?.outcome === 'did-not-start');
  for (const c of notStarted)
    out.push(
      `${c.model} × ${c.workloadLabel}: ${startupWords(c.startup as NonNullable<CellRecord['startup']>)}.`,
    );
  // The slowest start-up per model at its largest started count, the figure a thread per connection pays.
  const byModel = new Map<string, CellRecord>();
  for (const c of results.cells) {
    if (c.startup?.outcome !== 'started' || c.startup.allAnsweredMs === null) continue;
    const prev = byModel.get(c.model);
    if (!prev || c.connections > prev.connections) byModel.set(c.model, c);
  }
  const parts = [...byModel.values()]
    .filter((c) => c.connections > 1)
    .map(
      (c) =>
        `${c.model} ${Math.round(c.startup?.allAnsweredMs ?? 0).toLocaleString('en-US')} ms for ${c.startup?.queuedByDesign ? `the ${c.startup.connections} of ${connectionCount(c.connections)} it serves at once` : connectionCount(c.connections)}`,
    );
  if (parts.length > 0)
    out.push(
      `Thread start-up (new connections until each had one answer, before any window): ${parts.join(', ')}.`,
    );
  return out;
}

/**
 * Each relay verdict in words; outside the noise, the µs per request round trip it adds, from the same
 * geometric means of the windows the ratio uses.
 */
function relayCost(results: ThroughputResults): string[] {
  const cells = [...results.cells, ...results.socketCells];
  const geo = (label: string, connections: number): number | undefined => {
    const cell = cells.find(
      (c) => c.modelLabel === label && c.connections === connections && c.workload === 'plaintext',
    );
    const w = (cell?.repetitions ?? []).map((r) => r.requestsPerSec).filter((x) => x > 0);
    return w.length ? Math.exp(w.reduce((s, x) => s + Math.log(x), 0) / w.length) : undefined;
  };
  return relayVerdicts(results).map((v) => {
    const line = relayLine(v);
    if (v.winner === null) return line;
    const fast = geo(v.winner, v.connections);
    const slow = geo(v.runnerUp, v.connections);
    if (fast === undefined || slow === undefined) return line;
    // Per connection: with N connections in flight each one waits N / rate per round trip.
    const us = ((1e6 * v.connections) / slow - (1e6 * v.connections) / fast).toFixed(0);
    return `${line.slice(0, -1)}; ${Number(us) >= 0 ? '+' : ''}${us} µs per request round trip for ${v.runnerUp}.`;
  });
}

function sleepAndCpu(results: ThroughputResults): string[] {
  const out: string[] = [];
  const sleepConns = [
    ...new Set(results.cells.filter((c) => c.workload === 'sleep').map((c) => c.connections)),
  ].sort((a, b) => b - a);
  for (const conns of sleepConns) {
    const loop = cellOf(results, 'loop', 'sleep', conns);
    const pool = cellOf(results, 'pool-connection', 'sleep', conns);
    const bio = cellOf(results, 'bio', 'sleep', conns);
    if (usable(loop) && usable(pool) && conns > 1) {
      out.push(
        `/sleep at ${connectionCount(conns)}: loop (timer) ${fmtRate(loop.metrics.requestsPerSec)} req/s vs pool in connection mode ${fmtRate(pool.metrics.requestsPerSec)} req/s ` +
          `(${fmtRatio(loop.metrics.requestsPerSec / Math.max(pool.metrics.requestsPerSec, 1e-9))})` +
          (usable(bio) ? `, bio ${fmtRate(bio.metrics.requestsPerSec)} req/s` : '') +
          ': a blocking wait holds a thread, and a capped pool runs out of them.',
      );
      break;
    }
  }
  const cpuConns = [
    ...new Set(results.cells.filter((c) => c.workload === 'cpu').map((c) => c.connections)),
  ].sort((a, b) => b - a);
  for (const conns of cpuConns) {
    const loop = cellOf(results, 'loop', 'cpu', conns);
    const workers = cellOf(results, 'loop-workers', 'cpu', conns);
    const poolReq = cellOf(results, 'pool-request', 'cpu', conns);
    if (usable(loop) && (usable(workers) || usable(poolReq))) {
      const parts: string[] = [];
      if (usable(workers))
        parts.push(`loop-workers ${fmtRatio(workers.metrics.requestsPerSec / loop.metrics.requestsPerSec)}`);
      if (usable(poolReq))
        parts.push(`pool-request ${fmtRatio(poolReq.metrics.requestsPerSec / loop.metrics.requestsPerSec)}`);
      out.push(
        `CPU-bound /cpu at ${connectionCount(conns)}, against one event loop (${fmtRate(loop.metrics.requestsPerSec)} req/s, p99 ${fmtMs(loop.metrics.p99Ms)} ms): ${parts.join(', ')}` +
          ` — one loop runs one hash at a time; more cores or threads only help if the server may use them (here the single-core models are pinned to one core).`,
      );
      break;
    }
  }
  return out;
}

function openLoop(results: ThroughputResults): string[] {
  const sustained = results.openLoop.filter((o) => o.status === 'ok' && o.sustainableRps !== null);
  if (sustained.length === 0) return [];
  const ranked = [...sustained].sort((a, b) => (b.sustainableRps ?? 0) - (a.sustainableRps ?? 0));
  const list = ranked.map((o) => `${o.model} ${fmtRate(o.sustainableRps as number)}`).join(', ');
  return [
    `Open loop (echo-lp, p99 ≤ ${results.p99TargetMs} ms, latency from scheduled send time): sustainable req/s — ${list}.`,
  ];
}

/**
 * Whether the generator was ever the ceiling, from its own CPU in every window: a clearance only when none was
 * saturated; otherwise the saturated cells are named (they are `invalid` and out of every verdict).
 */
function generatorCheck(results: ThroughputResults): string[] {
  const windows = results.cells.flatMap((c) => (c.status === 'ok' ? (c.repetitions ?? []) : []));
  const cpus = windows.map((w) => w.loadgenCpuPercent).filter((v): v is number => v !== null);
  if (cpus.length === 0) return [];
  const saturated = results.cells.filter((c) => c.repetitions?.some((w) => w.loadgenSaturated));
  const head = `Generator: ${results.generator.http} for HTTP, the framed generator for echo-lp; its busiest window used ${Math.max(...cpus).toFixed(0)} % of its core`;
  if (saturated.length === 0) return [`${head}, so it was never the ceiling in this run.`];
  return [
    `${head}; it saturated in ${saturated.length} cells (${saturated
      .slice(0, 6)
      .map((c) => c.key)
      .join(
        '; ',
      )}${saturated.length > 6 ? '; …' : ''}): where the server had headroom left, those cells are invalid.`,
  ];
}

function validity(results: ThroughputResults): string[] {
  const measured = results.cells.filter((c) => c.status === 'ok');
  const invalid = measured.filter((c) => c.summary?.status === 'invalid');
  const failed = results.cells.filter(
    (c) => (c.status === 'failed' || c.status === 'crashed') && c.startup?.outcome !== 'did-not-start',
  );
  const failedByErrors = measured.filter((c) => c.summary?.status === 'failed');
  const out: string[] = [];
  // Every failure is named with its cause: a cell that answered nothing is not a slow cell.
  for (const c of failedByErrors) out.push(`${c.key} failed: ${c.summary?.statusReason ?? 'errors'}.`);
  if (invalid.length > 0) {
    out.push(
      `${invalid.length} of ${measured.length} measured cells are marked invalid (the load generator saturated before the server): ${invalid
        .slice(0, 6)
        .map((c) => c.key)
        .join('; ')}${invalid.length > 6 ? '; …' : ''}.`,
    );
  }
  for (const c of withheldVerdicts(results))
    out.push(
      `${c.workloadLabel} × ${connectionCount(c.connections)}: no verdict — ${c.model} measured ${fmtRate(c.metrics.requestsPerSec ?? 0)} req/s with the generator at its limit (${c.summary?.statusReason ?? 'invalid'}), so it may really rank first or second.`,
    );
  // Each by name with its cause, however many: a reader must not have to open results.json to learn why.
  for (const c of failed)
    out.push(
      `${c.key} ${c.status}: ${(c.reason ?? 'no cause recorded').replaceAll('\n', ' ').slice(0, 160)}.`,
    );
  return out;
}

export function throughputConclusions(results: ThroughputResults): string[] {
  return [
    ...rankings(results),
    ...startup(results),
    ...bioRanOut(results),
    ...relayCost(results),
    ...sleepAndCpu(results),
    ...openLoop(results),
    ...generatorCheck(results),
    ...validity(results),
  ];
}

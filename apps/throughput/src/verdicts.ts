/**
 * The comparisons the throughput section states, each with the 95 % CI of its ratio (Welch's t on log
 * throughput over the per-window figures, from the harness). Per group — one workload at one connection
 * count — the two fastest models that had the same CPU budget (pinned to the one server core) are compared;
 * a model allowed every core (`loop --workers N`) is never ranked against them by raw req/s. Only cells whose
 * status is `ok` take part: a failed or generator-bound cell is named in the conclusions instead.
 */
import { describeVerdict, type Verdict, verdictOf } from '@iolab/harness';
import { modelSpecs } from './models.js';
import type { CellRecord, ThroughputResults } from './throughput-results.js';

function windowsOf(cell: CellRecord): number[] {
  return (cell.repetitions ?? []).map((r) => r.requestsPerSec);
}

/** One verdict per group with at least two comparable `ok` cells, winner only when the CI excludes 1. */
export function throughputVerdicts(results: Pick<ThroughputResults, 'cells'>): Verdict[] {
  const allCores = new Set(
    modelSpecs()
      .filter((m) => m.needsAllCores)
      .map((m) => m.id),
  );
  const groups = new Map<string, CellRecord[]>();
  for (const cell of results.cells) {
    if (cell.status !== 'ok' || cell.summary?.status !== 'ok' || allCores.has(cell.model)) continue;
    if (windowsOf(cell).length < 2) continue;
    const key = `${cell.workload}\u0000${cell.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  const verdicts: Verdict[] = [];
  for (const cells of groups.values()) {
    if (cells.length < 2) continue;
    const ranked = [...cells].sort(
      (a, b) => (b.summary?.requestsPerSec.median ?? 0) - (a.summary?.requestsPerSec.median ?? 0),
    );
    const [first, second] = ranked as [CellRecord, CellRecord];
    const verdict = verdictOf(
      { experiment: 'throughput', workload: first.workloadLabel, connections: first.connections },
      { name: first.modelLabel, windows: windowsOf(first) },
      { name: second.modelLabel, windows: windowsOf(second) },
    );
    if (verdict) verdicts.push(verdict);
  }
  return verdicts;
}

/** "/plaintext × 100: loop 1.26× bio (95 % CI 1.18–1.33)", one line per verdict. */
export function verdictLines(verdicts: readonly Verdict[]): string[] {
  return verdicts.map(
    (v) => `${v.workload} × ${v.connections.toLocaleString('en-US')} connections: ${describeVerdict(v)}`,
  );
}

/** The relay-cost comparison's experiment name in `verdicts` (its own row block in the verdict matrix). */
export const RELAY_EXPERIMENT = 'relay cost';

/**
 * The relay cost: bio (the main thread relays every byte to and from a worker thread) against loop (no relay)
 * at 1 connection on /plaintext, where neither model queues and the gap is the relay itself. Undefined when
 * either cell is not `ok` or has fewer than two windows.
 */
export function relayVerdict(results: Pick<ThroughputResults, 'cells'>): Verdict | undefined {
  const find = (model: string): CellRecord | undefined =>
    results.cells.find(
      (c) =>
        c.model === model &&
        c.workload === 'plaintext' &&
        c.connections === 1 &&
        c.status === 'ok' &&
        c.summary?.status === 'ok',
    );
  const bio = find('bio');
  const loop = find('loop');
  if (!bio || !loop) return undefined;
  return (
    verdictOf(
      { experiment: RELAY_EXPERIMENT, workload: bio.workloadLabel, connections: 1 },
      { name: loop.modelLabel, windows: windowsOf(loop) },
      { name: bio.modelLabel, windows: windowsOf(bio) },
    ) ?? undefined
  );
}

/**
 * The relay-cost conclusion, from its verdict: the µs per round trip only when the interval excludes 1; a
 * tie says so with the interval rather than printing a difference inside the noise as a fact.
 */
export function relayLine(v: Verdict): string {
  const head =
    'Relay cost (worker threads cannot own sockets, so bio relays bytes through the main thread), /plaintext at 1 connection: ';
  if (v.winner === null)
    return `${head}${describeVerdict(v)} between loop and bio — no relay cost measurable in this run.`;
  return `${head}${describeVerdict(v)}.`;
}

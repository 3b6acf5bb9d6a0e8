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

function allCoreModels(): Set<string> {
  return new Set(
    modelSpecs()
      .filter((m) => m.needsAllCores)
      .map((m) => m.id),
  );
}

function medianOf(cell: CellRecord): number {
  return cell.summary?.requestsPerSec.median ?? 0;
}

interface Group {
  readonly ok: CellRecord[];
  /** Generator-bound cells: each model's real rate is at least what was measured, by an unknown margin. */
  readonly invalid: CellRecord[];
}

function groupsOf(results: Pick<ThroughputResults, 'cells'>): Group[] {
  const allCores = allCoreModels();
  const groups = new Map<string, Group>();
  for (const cell of results.cells) {
    if (cell.status !== 'ok' || allCores.has(cell.model)) continue;
    const status = cell.summary?.status;
    if (status !== 'ok' && status !== 'invalid') continue;
    if (status === 'ok' && windowsOf(cell).length < 2) continue;
    const key = `${cell.workload}\u0000${cell.connections}`;
    const group = groups.get(key) ?? { ok: [], invalid: [] };
    (status === 'ok' ? group.ok : group.invalid).push(cell);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * The generator-bound cell that makes a group's ranking unknowable: one that measured at least the runner-up's
 * rate while the generator, not the server, set its pace, so it may really be first or second. Its group
 * then gets no verdict (and the conclusions say why) rather than a winner the next run may contradict.
 */
export function generatorBoundContender(group: {
  ok: readonly CellRecord[];
  invalid: readonly CellRecord[];
}): CellRecord | undefined {
  const ranked = [...group.ok].sort((a, b) => medianOf(b) - medianOf(a));
  const runnerUp = ranked[1];
  if (!runnerUp) return undefined;
  return group.invalid.find((c) => medianOf(c) >= medianOf(runnerUp));
}

/** Groups whose verdict a generator-bound cell withheld, for the conclusions. */
export function withheldVerdicts(results: Pick<ThroughputResults, 'cells'>): CellRecord[] {
  return groupsOf(results)
    .map(generatorBoundContender)
    .filter((c): c is CellRecord => c !== undefined);
}

/**
 * One verdict per group with at least two comparable `ok` cells, winner only when the CI excludes 1; none for a
 * group where a generator-bound cell may be among the top two.
 */
export function throughputVerdicts(results: Pick<ThroughputResults, 'cells'>): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const group of groupsOf(results)) {
    if (group.ok.length < 2 || generatorBoundContender(group)) continue;
    const ranked = [...group.ok].sort((a, b) => medianOf(b) - medianOf(a));
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

function okCell(cells: readonly CellRecord[], model: string, connections?: number): CellRecord | undefined {
  return cells.find(
    (c) =>
      c.model === model &&
      c.workload === 'plaintext' &&
      (connections === undefined || c.connections === connections) &&
      c.status === 'ok' &&
      c.summary?.status === 'ok',
  );
}

/** The pairs of the relay-vs-owned family: the same model, relayed and owned. */
export const SOCKET_PAIRS = [
  { model: 'bio', relay: 'bio-relay', owned: 'bio-owned' },
  { model: 'pool connection mode', relay: 'pool-connection-relay', owned: 'pool-connection-owned' },
] as const;

/**
 * The relay cost, measured where it is the only difference: each model with relayed vs owned sockets on the
 * same Node, per connection count of the relay-vs-owned groups. Without a Node that can transfer sockets
 * (no such groups), the fallback is bio (relayed) against loop (no relay) at 1 connection on /plaintext,
 * where neither queues and the gap is mostly the relay.
 */
export function relayVerdicts(results: Pick<ThroughputResults, 'cells' | 'socketCells'>): Verdict[] {
  const out: Verdict[] = [];
  const counts = [...new Set(results.socketCells.map((c) => c.connections))].sort((a, b) => a - b);
  for (const connections of counts) {
    for (const pair of SOCKET_PAIRS) {
      const relay = okCell(results.socketCells, pair.relay, connections);
      const owned = okCell(results.socketCells, pair.owned, connections);
      if (!relay || !owned) continue;
      const verdict = verdictOf(
        { experiment: RELAY_EXPERIMENT, workload: `${pair.model}, /plaintext`, connections },
        { name: owned.modelLabel, windows: windowsOf(owned) },
        { name: relay.modelLabel, windows: windowsOf(relay) },
      );
      if (verdict) out.push(verdict);
    }
  }
  if (counts.length > 0) return out;
  const bio = okCell(results.cells, 'bio', 1);
  const loop = okCell(results.cells, 'loop', 1);
  if (!bio || !loop) return out;
  const verdict = verdictOf(
    { experiment: RELAY_EXPERIMENT, workload: 'bio (relayed) vs loop, /plaintext', connections: 1 },
    { name: loop.modelLabel, windows: windowsOf(loop) },
    { name: bio.modelLabel, windows: windowsOf(bio) },
  );
  return verdict ? [verdict] : out;
}

/**
 * One relay-cost conclusion per verdict: the µs per request only when the interval excludes 1; a tie says so
 * with the interval rather than printing a difference inside the noise as a fact.
 */
export function relayLine(v: Verdict): string {
  const head = `Relay cost (every byte through the main thread), ${v.workload} at ${v.connections.toLocaleString('en-US')} ${v.connections === 1 ? 'connection' : 'connections'}: `;
  if (v.winner === null) return `${head}${describeVerdict(v)} — no relay cost measurable in this run.`;
  return `${head}${describeVerdict(v)}.`;
}

/**
 * One group — one workload at one connection count — measured the way drift cannot bias: every model's server
 * is started together and stays up (each pinned to the server core; an idle server costs next to nothing),
 * each model's thread start-up is measured first, then the windows run in rotating order,
 *
 *   round 1: A B C   round 2: B C A   round 3: C A B   …
 *
 * so other load on a shared machine, thermal state or a GC storm hits every model alike instead of whichever
 * happened to run last. A model allowed every core (`loop --workers N`) runs unpinned and so shares the
 * generator's core: its cells are marked and never ranked against the pinned ones.
 */
import { availableParallelism } from 'node:os';
import { type CorePlan, type ExperimentOptions, rotation } from '@iolab/harness';
import { metricsOf, summarise } from './cell-summary.js';
import type { LoadWorker } from './load-client.js';
import type { HttpGenerator, LoadJob, LoadJobSpec, RepetitionResult, StartupResult } from './load-job.js';
import { ECHO_PAYLOAD_BYTES, type PlannedCell, type PlannedGroup, type Timing } from './matrix.js';
import {
  lastStats,
  type RunningServer,
  type ServerNode,
  type ServerStats,
  startServer,
} from './server-process.js';
import type { CellRecord, StartupRecord } from './throughput-results.js';

/** A draining server gets this long after SIGTERM before SIGKILL: in-flight work is not what we measure. */
const SERVER_STOP_GRACE_MS = 2_000;

export interface GroupContext {
  readonly options: ExperimentOptions;
  readonly worker: LoadWorker;
  readonly timing: Timing;
  readonly pinning: CorePlan;
  readonly node: ServerNode;
  readonly generator: HttpGenerator;
  /** Progress: called once per round. */
  readonly onRound: (round: number, rounds: number) => void;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`.slice(0, 600);
  }
  return String(error).slice(0, 600);
}

function baseOf(cell: PlannedCell) {
  return {
    key: cell.key,
    model: cell.model.id,
    modelLabel: cell.model.label,
    workload: cell.workload.id,
    workloadLabel: cell.workload.label,
    connections: cell.connections,
  };
}

const EMPTY_METRICS = { requestsPerSec: null, p99Ms: null, rssMiB: null };

function windowSpec(cell: PlannedCell, server: RunningServer, generator: HttpGenerator): LoadJobSpec {
  if (cell.workload.protocol === 'http') {
    return {
      kind: 'http',
      url: `http://${server.host}:${server.port}${cell.workload.path}`,
      connections: cell.connections,
      generator,
    };
  }
  return {
    kind: 'framed',
    host: server.host,
    port: server.port,
    connections: cell.connections,
    payloadBytes: ECHO_PAYLOAD_BYTES,
  };
}

/**
 * Start-up in words: all answered in X ms; refused by design (a thread cap answers the rest with a refusal);
 * or "did not start N threads within X s" — never "ran out", which is kept for steady-state failure.
 */
export function startupOf(result: StartupResult): StartupRecord {
  if (result.allAnsweredMs !== null) return { ...result, outcome: 'started' };
  if (result.answered + result.failed >= result.connections) return { ...result, outcome: 'refused' };
  return { ...result, outcome: 'did-not-start' };
}

export function startupWords(startup: StartupRecord): string {
  const n = startup.connections.toLocaleString('en-US');
  if (startup.outcome === 'started')
    return `all ${n} answered in ${Math.round(startup.allAnsweredMs ?? 0)} ms`;
  if (startup.outcome === 'refused')
    return `${startup.answered.toLocaleString('en-US')} of ${n} answered, ${startup.failed.toLocaleString('en-US')} refused or failed`;
  return `did not start ${n} threads within ${startup.capSec} s (${startup.answered.toLocaleString('en-US')} answered)`;
}

interface Member {
  readonly cell: PlannedCell;
  readonly server: RunningServer;
  startup?: StartupRecord;
  readonly windows: RepetitionResult[];
  /** Set when the model leaves the group early (did not start, generator error); its cell is `failed`. */
  failure?: string;
  loadgen?: CellRecord['loadgen'];
}

async function startAll(
  ctx: GroupContext,
  cells: readonly PlannedCell[],
): Promise<{ members: Member[]; failed: CellRecord[] }> {
  // All at once: most of a Node start is waiting on the disk and the module loader, which overlaps; a start
  // that fails names its own model and leaves the others running.
  const started = await Promise.allSettled(
    cells.map((cell) =>
      startServer(
        ctx.node,
        ctx.options.cliPath,
        cell.model,
        cell.workload.protocol,
        cell.model.needsAllCores ? undefined : ctx.pinning.serverCpu,
        ctx.options.signal,
      ),
    ),
  );
  const members: Member[] = [];
  const failed: CellRecord[] = [];
  started.forEach((outcome, i) => {
    const cell = cells[i] as PlannedCell;
    if (outcome.status === 'fulfilled') members.push({ cell, server: outcome.value, windows: [] });
    else
      failed.push({
        ...baseOf(cell),
        status: 'failed',
        reason: `server did not start: ${errorText(outcome.reason)}`,
        metrics: EMPTY_METRICS,
      });
  });
  return { members, failed };
}

function jobOf(member: Member, spec: LoadJobSpec, partial: Partial<LoadJob>): LoadJob {
  return {
    spec,
    serverPid: member.server.process.pid,
    warmupSec: 0,
    warmupCapSec: 0,
    durationSec: 0,
    repetitions: 0,
    ...partial,
  };
}

async function measureStartup(ctx: GroupContext, member: Member): Promise<void> {
  const { cell, server } = member;
  const request =
    cell.workload.protocol === 'http'
      ? { kind: 'http' as const, path: cell.workload.path ?? '/' }
      : { kind: 'echo-lp' as const, payloadBytes: ECHO_PAYLOAD_BYTES };
  const connections = Math.min(cell.connections, cell.model.servesAtOnce ?? cell.connections);
  const run = await ctx.worker.run(
    jobOf(
      member,
      {
        kind: 'startup',
        host: server.host,
        port: server.port,
        connections,
        request,
        capSec: ctx.timing.startupCapSec,
      },
      {},
    ),
  );
  if (run.result.error || !run.result.startup) {
    member.failure = `start-up probe: ${run.result.error ?? 'no result'}`;
    return;
  }
  member.startup = {
    ...startupOf(run.result.startup),
    ...(connections < cell.connections ? { queuedByDesign: cell.connections - connections } : {}),
  };
  if (member.startup.outcome === 'did-not-start') member.failure = startupWords(member.startup);
}

/** Discarded load right after start-up: JIT, caches and (autocannon) the adaptive first answers. */
async function warmUp(ctx: GroupContext, member: Member): Promise<void> {
  const spec = windowSpec(member.cell, member.server, ctx.generator);
  // autocannon warms up adaptively inside every window job; wrk and the framed generator take a plain one.
  if (spec.kind === 'http' && spec.generator === 'autocannon') return;
  const run = await ctx.worker.run(jobOf(member, spec, { warmupSec: ctx.timing.warmupSec }));
  if (run.result.error) member.failure = `load generator (warm-up): ${run.result.error}`;
}

async function measureWindow(ctx: GroupContext, member: Member): Promise<void> {
  const spec = windowSpec(member.cell, member.server, ctx.generator);
  const autocannon = spec.kind === 'http' && spec.generator === 'autocannon';
  const run = await ctx.worker.run(
    jobOf(member, spec, {
      durationSec: ctx.timing.durationSec,
      repetitions: 1,
      ...(autocannon ? { warmupSec: 0.25, warmupCapSec: ctx.timing.warmupCapSec } : {}),
    }),
  );
  member.loadgen = {
    commandLine: run.result.commandLine,
    workerCommandLine: run.workerCommandLine,
    cpu: run.cpu ?? null,
    pinned: run.pinned,
    noFileLimit: run.result.noFileLimit,
  };
  if (run.result.error) {
    member.failure = `load generator: ${run.result.error}`;
    return;
  }
  member.windows.push(...run.result.repetitions);
}

function recordOf(member: Member, timing: Timing, stats: ServerStats | undefined): CellRecord {
  const { cell, server } = member;
  const serverInfo = {
    commandLine: server.commandLine,
    cpu: server.process.cpu ?? null,
    pinned: server.process.pinned,
    noFileLimit: server.noFileLimit,
  };
  const extra = {
    server: serverInfo,
    ...(member.loadgen ? { loadgen: member.loadgen } : {}),
    ...(member.startup ? { startup: member.startup } : {}),
    ...(stats ? { serverStats: stats } : {}),
    ...(cell.model.needsAllCores ? { sharedCoreWithGenerator: true } : {}),
  };
  if (member.windows.length === 0) {
    return {
      ...baseOf(cell),
      status: 'failed',
      reason: member.failure ?? 'no window was measured',
      metrics: EMPTY_METRICS,
      ...extra,
    };
  }
  const serverCores = server.process.cpu === undefined ? availableParallelism() : 1;
  const summary = summarise(member.windows, timing.durationSec, serverCores);
  const crashed = !summary.serverAliveAtEnd;
  const reason = crashed
    ? `server exited during the run: ${server.process.stderrTail().slice(-400) || 'no stderr'}`
    : member.failure;
  return {
    ...baseOf(cell),
    status: crashed ? 'crashed' : member.failure ? 'failed' : 'ok',
    ...(reason ? { reason } : {}),
    metrics: metricsOf(summary),
    summary,
    repetitions: member.windows,
    ...extra,
  };
}

/** Runs one group; returns a record for every cell of it, skipped ones included, in plan order. */
export async function runGroup(ctx: GroupContext, group: PlannedGroup): Promise<CellRecord[]> {
  const records = new Map<string, CellRecord>();
  for (const cell of group.cells) {
    if (cell.skipReason)
      records.set(cell.key, {
        ...baseOf(cell),
        status: 'skipped',
        reason: cell.skipReason,
        metrics: EMPTY_METRICS,
      });
  }
  const runnable = group.cells.filter((c) => !c.skipReason);
  const { members, failed } = await startAll(ctx, runnable);
  for (const record of failed) records.set(record.key, record);
  try {
    for (const member of members) {
      if (ctx.options.signal.aborted) break;
      await measureStartup(ctx, member);
      if (!member.failure) await warmUp(ctx, member);
    }
    for (let round = 0; round < ctx.timing.repetitions; round++) {
      if (ctx.options.signal.aborted) break;
      ctx.onRound(round, ctx.timing.repetitions);
      for (const member of rotation(members, round)) {
        if (ctx.options.signal.aborted) break;
        if (member.failure) continue;
        if (member.server.process.sample() === undefined) {
          member.failure = `server exited: ${member.server.process.stderrTail().slice(-400) || 'no stderr'}`;
          continue;
        }
        await measureWindow(ctx, member);
      }
    }
  } finally {
    await Promise.all(members.map((m) => m.server.process.stop('SIGTERM', SERVER_STOP_GRACE_MS)));
  }
  for (const member of members) {
    records.set(member.cell.key, recordOf(member, ctx.timing, lastStats(member.server.process.stderrTail())));
  }
  return group.cells.map((c) => records.get(c.key) as CellRecord);
}

/**
 * The throughput experiment: every server model × workload × connection count, measured group by group (one
 * workload at one connection count) with all of a group's servers up together and their windows interleaved
 * in rotating order (run-group.ts); then relay vs owned sockets on the same Node, and an open-loop rate sweep
 * per model. Returns a report section whose every number and conclusion comes from this run's data.
 */
import { availableParallelism } from 'node:os';
import { type CorePlan, type ExperimentOptions, planCores, type ReportSection } from '@iolab/harness';
import { wrkAvailable } from '@iolab/loadgen';
import { findTransferCapableNode } from '@iolab/server-core';
import { LoadWorker } from './load-client.js';
import type { HttpGenerator } from './load-job.js';
import {
  DROPPED_FOR_BUDGET,
  ECHO_PAYLOAD_BYTES,
  estimateOpenLoopSec,
  FULL_TIMING,
  type PlannedGroup,
  planGroups,
  planOpenLoop,
  planSocketGroups,
  QUICK_TIMING,
  WORKLOADS,
} from './matrix.js';
import { type ModelSpec, modelSpecs } from './models.js';
import { errorText, type GroupContext, runGroup } from './run-group.js';
import { type RunningServer, type ServerNode, startServer } from './server-process.js';
import { buildThroughputSection } from './throughput-report.js';
import type { CellRecord, OpenLoopRecord, ThroughputResults } from './throughput-results.js';

/** A draining server gets this long after SIGTERM before SIGKILL: in-flight work is not what we measure. */
const SERVER_STOP_GRACE_MS = 2_000;
/** Open loop: share of the offered rate that must be served for a step to count as sustained. */
const SUSTAINED_SHARE = 0.95;

/** The harness's core plan, with what it means for the one model allowed every core. */
function choosePinning(): CorePlan {
  const plan = planCores();
  if (plan.serverCpu === undefined) return plan;
  return {
    ...plan,
    note: `${plan.note}; the one-worker-per-core loop runs unpinned on all ${availableParallelism()} cores and shares CPU ${plan.loadgenCpu} with the generator, so its cells are marked and never ranked against the pinned models`,
  };
}

/**
 * One Node for every server of the run, so models compare on one runtime: one whose worker threads can own a
 * transferred socket where it can be had (bio and the pool then run as they stand for), else this one.
 */
async function chooseServerNode(): Promise<{ node: ServerNode; transferMissing?: string }> {
  const found = await findTransferCapableNode();
  if ('path' in found) return { node: { path: found.path, version: found.version, socketTransfer: true } };
  return {
    node: { path: process.execPath, version: process.version, socketTransfer: false },
    transferMissing: found.reason,
  };
}

class Eta {
  readonly #started = performance.now();
  #estimatedDone = 0;
  constructor(readonly totalEstimate: number) {}
  add(seconds: number): void {
    this.#estimatedDone += seconds;
  }
  /** Remaining estimate, scaled by how far reality has run ahead of or behind the estimates so far. */
  seconds(): number {
    const elapsed = (performance.now() - this.#started) / 1000;
    const ratio = this.#estimatedDone > 5 ? elapsed / this.#estimatedDone : 1;
    return Math.max(0, (this.totalEstimate - this.#estimatedDone) * ratio);
  }
}

async function runOpenLoop(
  options: ExperimentOptions,
  worker: LoadWorker,
  node: ServerNode,
  model: ModelSpec,
  basisRps: number | null,
  pinning: CorePlan,
): Promise<OpenLoopRecord> {
  const plan = planOpenLoop(options.quick);
  const base = { model: model.id, modelLabel: model.label, basisRps };
  if (basisRps === null || basisRps <= 0) {
    return {
      ...base,
      steps: [],
      sustainableRps: null,
      status: 'skipped',
      reason: 'no closed-loop echo rate to scale from',
    };
  }
  const rates = plan.fractions.map((f) => Math.max(10, Math.round(basisRps * f)));
  let server: RunningServer | undefined;
  try {
    server = await startServer(
      node,
      options.cliPath,
      model,
      'echo-lp',
      model.needsAllCores ? undefined : pinning.serverCpu,
      options.signal,
    );
    const load = await worker.run({
      spec: {
        kind: 'framed-open',
        host: server.host,
        port: server.port,
        connections: plan.connections,
        payloadBytes: ECHO_PAYLOAD_BYTES,
        rates,
        p99TargetMs: plan.p99TargetMs,
      },
      serverPid: server.process.pid,
      warmupSec: plan.warmupSec,
      warmupCapSec: plan.warmupSec,
      durationSec: plan.stepSec,
      repetitions: 1,
    });
    if (load.result.error) throw new Error(load.result.error);
    const steps = load.result.repetitions.map((rep) => ({
      offeredRate: rep.offeredRate ?? 0,
      achievedRate: rep.requestsPerSec,
      p50Ms: rep.p50Ms,
      p99Ms: rep.p99Ms,
      p999Ms: rep.p999Ms,
      errors: rep.errors,
      refusals: rep.refusals,
      loadgenSaturated: rep.loadgenSaturated,
    }));
    let sustainable: number | null = null;
    for (const step of steps) {
      const ok =
        step.p99Ms !== null &&
        step.p99Ms <= plan.p99TargetMs &&
        step.achievedRate >= SUSTAINED_SHARE * step.offeredRate &&
        step.errors + step.refusals === 0;
      if (ok) sustainable = Math.max(sustainable ?? 0, step.offeredRate);
    }
    return {
      ...base,
      steps,
      sustainableRps: sustainable,
      status: 'ok',
      serverCommandLine: `${server.commandLine}\n${load.result.commandLine}`,
    };
  } catch (error) {
    return {
      ...base,
      steps: [],
      sustainableRps: null,
      status: 'failed',
      reason: errorText(error),
      ...(server ? { serverCommandLine: server.commandLine } : {}),
    };
  } finally {
    await server?.process.stop('SIGTERM', SERVER_STOP_GRACE_MS);
  }
}

/** Runs the throughput matrix and returns its report section. */
export async function runThroughput(options: ExperimentOptions): Promise<ReportSection> {
  const timing = options.quick ? QUICK_TIMING : FULL_TIMING;
  const pinning = choosePinning();
  const { node, transferMissing } = await chooseServerNode();
  const generator: HttpGenerator = wrkAvailable() ? 'wrk' : 'autocannon';
  const groups = planGroups(options.quick);
  const socketGroups: PlannedGroup[] = node.socketTransfer ? planSocketGroups(options.quick) : [];
  const openPlan = planOpenLoop(options.quick);
  const models = modelSpecs();
  const all = [...groups, ...socketGroups];
  const eta = new Eta(all.reduce((s, g) => s + g.estimateSec, 0) + estimateOpenLoopSec(openPlan));
  const total = all.length + openPlan.models.length;
  let done = 0;
  const warnings: string[] = [];
  if (generator === 'autocannon')
    warnings.push(
      'wrk is not installed: HTTP load was generated by autocannon, single-threaded JavaScript that can be the ceiling at the top rates (apt install wrk)',
    );
  if (transferMissing)
    warnings.push(
      `no Node that can transfer sockets to worker threads (${transferMissing}): bio and the pool ran with relayed sockets, and relay vs owned was not measured`,
    );
  const report = (scenario: string, message?: string): void =>
    options.progress({ scenario, done, total, etaSeconds: eta.seconds(), ...(message ? { message } : {}) });

  const records: CellRecord[] = [];
  const socketRecords: CellRecord[] = [];
  const openLoop: OpenLoopRecord[] = [];
  const worker = new LoadWorker(pinning.loadgenCpu, options.signal);
  try {
    for (const group of all) {
      if (options.signal.aborted) break;
      const label = `throughput: ${group.family === 'socket' ? 'relay vs owned, ' : ''}${group.workload.label} × ${group.connections.toLocaleString('en-US')} conns`;
      const ctx: GroupContext = {
        options,
        worker,
        timing,
        pinning,
        node,
        generator,
        onRound: (round, rounds) => report(`${label}, round ${round + 1}/${rounds}`),
      };
      report(`${label}: starting servers, thread start-up`);
      const cells = await runGroup(ctx, group);
      (group.family === 'socket' ? socketRecords : records).push(...cells);
      done++;
      eta.add(group.estimateSec);
      for (const record of cells) {
        if (record.status !== 'ok' && record.status !== 'skipped' && !options.signal.aborted)
          report(`throughput: ${record.key}`, `${record.status}: ${record.reason ?? ''}`.slice(0, 160));
      }
    }

    if (!options.signal.aborted && records.every((r) => r.status !== 'ok')) {
      const first = records.find((r) => r.status === 'failed' || r.status === 'crashed');
      throw new Error(`no throughput cell could be measured; first failure: ${first?.reason ?? 'unknown'}`);
    }

    for (const id of openPlan.models) {
      if (options.signal.aborted) break;
      const model = models.find((m) => m.id === id);
      if (!model) continue;
      report(`throughput: open loop ${id} × echo-lp`);
      const echoRates = records
        .filter((r) => r.model === id && r.workload === 'echo' && r.status === 'ok')
        .map((r) => r.metrics.requestsPerSec ?? 0);
      const basis = echoRates.length > 0 ? Math.max(...echoRates) : null;
      openLoop.push(await runOpenLoop(options, worker, node, model, basis, pinning));
      done++;
      eta.add(estimateOpenLoopSec(openPlan) / openPlan.models.length);
    }
  } finally {
    await worker.stop();
  }

  const lowLimits = records.filter(
    (r) =>
      r.status !== 'skipped' &&
      r.connections >= 1_000 &&
      r.server?.noFileLimit &&
      Number(r.server.noFileLimit) < r.connections + 100,
  );
  if (lowLimits.length > 0) {
    warnings.push(
      `ulimit -n could not be raised enough for ${lowLimits.length} cells (server limit ${lowLimits[0]?.server?.noFileLimit}); run with a higher hard limit (ulimit -Hn)`,
    );
  }

  const results: ThroughputResults = {
    quick: options.quick,
    interrupted: options.signal.aborted,
    timing,
    cores: availableParallelism(),
    pinning: {
      serverCpu: pinning.serverCpu ?? null,
      loadgenCpu: pinning.loadgenCpu ?? null,
      note: pinning.note,
    },
    workloads: Object.fromEntries(WORKLOADS.map((w) => [w.id, w.label])),
    models: models.map((m) => ({ id: m.id, label: m.label, serveArgs: m.serveArgs })),
    p99TargetMs: openPlan.p99TargetMs,
    generator: {
      http: generator,
      note:
        generator === 'wrk'
          ? 'wrk (C, one thread, pinned to the generator core; its own CPU read from /proc around every window)'
          : 'autocannon (wrk is not installed; its CPU is sampled in-process around every window)',
    },
    node: { path: node.path, version: node.version, socketTransfer: node.socketTransfer },
    cells: records,
    socketCells: socketRecords,
    ...(transferMissing ? { socketSkipped: transferMissing } : {}),
    droppedForBudget: options.quick ? [] : DROPPED_FOR_BUDGET,
    openLoop,
    warnings,
  };
  return buildThroughputSection(results);
}

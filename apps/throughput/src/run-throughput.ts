/**
 * The throughput experiment: every server model × workload × connection count, each cell against a fresh
 * server process, measured by a load generator in another process on another core; then an open-loop rate
 * sweep per model and a wrk cross-check of the top HTTP rates. Returns a report section whose every number
 * and conclusion comes from this run's data.
 */
import { availableParallelism } from 'node:os';
import { type CorePlan, type ExperimentOptions, planCores, type ReportSection } from '@iolab/harness';
import { runWrk, wrkAvailable } from '@iolab/loadgen';
import { metricsOf, summarise } from './cell-summary.js';
import { LoadWorker } from './load-client.js';
import type { LoadJobSpec } from './load-job.js';
import {
  ECHO_PAYLOAD_BYTES,
  estimateOpenLoopSec,
  FULL_TIMING,
  type PlannedCell,
  planCells,
  planOpenLoop,
  QUICK_TIMING,
  type Timing,
  WORKLOADS,
} from './matrix.js';
import { type ModelSpec, modelSpecs } from './models.js';
import { lastStats, type RunningServer, type ServerStats, startServer } from './server-process.js';
import { buildThroughputSection } from './throughput-report.js';
import type { CellRecord, OpenLoopRecord, ThroughputResults, WrkCheck } from './throughput-results.js';

/** A draining server gets this long after SIGTERM before SIGKILL: in-flight work is not what we measure. */
const SERVER_STOP_GRACE_MS = 2_000;
/** Open loop: share of the offered rate that must be served for a step to count as sustained. */
const SUSTAINED_SHARE = 0.95;
/** Connections for the wrk cross-check: where the top HTTP rates are. */
const WRK_CONNECTIONS = 100;
const WRK_SECONDS = { quick: 1, full: 2 } as const;
/** Quick runs cross-check only the fastest HTTP servers, where autocannon is likeliest to be the ceiling. */
const QUICK_WRK_MODELS = new Set(['loop', 'node-http']);
/** wrk beating autocannon by this much means autocannon, not the server, set the pace of that cell. */
const WRK_CEILING_RATIO = 1.2;

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`.slice(0, 600);
  }
  return String(error).slice(0, 600);
}

/** The harness's core plan, with what it means for the one model allowed every core. */
function choosePinning(): CorePlan {
  const plan = planCores();
  if (plan.serverCpu === undefined) return plan;
  return {
    ...plan,
    note: `${plan.note}; the one-worker-per-core loop runs unpinned on all ${availableParallelism()} cores and shares CPU ${plan.loadgenCpu} with the generator`,
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

async function withServer<T>(
  options: ExperimentOptions,
  model: ModelSpec,
  protocol: 'http' | 'echo-lp',
  pinning: CorePlan,
  run: (server: RunningServer) => Promise<T>,
): Promise<{ value: T; stats: ServerStats | undefined }> {
  const cpu = model.needsAllCores ? undefined : pinning.serverCpu;
  const server = await startServer(options.cliPath, model, protocol, cpu, options.signal);
  let value: T;
  try {
    value = await run(server);
  } finally {
    await server.process.stop('SIGTERM', SERVER_STOP_GRACE_MS);
  }
  return { value, stats: lastStats(server.process.stderrTail()) };
}

function jobSpec(cell: PlannedCell, server: RunningServer): LoadJobSpec {
  if (cell.workload.protocol === 'http') {
    return {
      kind: 'http',
      url: `http://${server.host}:${server.port}${cell.workload.path}`,
      connections: cell.connections,
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

async function runCell(
  options: ExperimentOptions,
  worker: LoadWorker,
  cell: PlannedCell,
  timing: Timing,
  pinning: CorePlan,
): Promise<CellRecord> {
  const base = {
    key: cell.key,
    model: cell.model.id,
    modelLabel: cell.model.label,
    workload: cell.workload.id,
    workloadLabel: cell.workload.label,
    connections: cell.connections,
  };
  const empty = { requestsPerSec: null, p99Ms: null, rssMiB: null };
  if (cell.skipReason) return { ...base, status: 'skipped', reason: cell.skipReason, metrics: empty };
  try {
    const { value, stats } = await withServer(
      options,
      cell.model,
      cell.workload.protocol,
      pinning,
      async (server): Promise<CellRecord> => {
        const load = await worker.run({
          spec: jobSpec(cell, server),
          serverPid: server.process.pid,
          warmupSec: timing.warmupSec,
          warmupCapSec: timing.warmupCapSec,
          durationSec: timing.durationSec,
          repetitions: timing.repetitions,
        });
        const serverInfo = {
          commandLine: server.commandLine,
          cpu: server.process.cpu ?? null,
          pinned: server.process.pinned,
          noFileLimit: server.noFileLimit,
        };
        const loadgenInfo = {
          commandLine: load.result.commandLine,
          workerCommandLine: load.workerCommandLine,
          cpu: load.cpu ?? null,
          pinned: load.pinned,
          noFileLimit: load.result.noFileLimit,
          ...(load.result.warmupSec === undefined ? {} : { warmupSec: load.result.warmupSec }),
          ...(load.result.servedAfterWarmup === undefined
            ? {}
            : { servedAfterWarmup: load.result.servedAfterWarmup }),
        };
        if (load.result.error) {
          return {
            ...base,
            status: 'failed',
            reason: `load generator: ${load.result.error}`,
            metrics: empty,
            server: serverInfo,
            loadgen: loadgenInfo,
          };
        }
        const serverCores = server.process.cpu === undefined ? availableParallelism() : 1;
        const summary = summarise(load.result.repetitions, timing.durationSec, serverCores);
        const alive = server.process.sample() !== undefined;
        const crashed = !alive || !summary.serverAliveAtEnd;
        return {
          ...base,
          status: crashed ? 'crashed' : 'ok',
          ...(crashed
            ? {
                reason: `server exited during the run: ${server.process.stderrTail().slice(-400) || 'no stderr'}`,
              }
            : {}),
          metrics: metricsOf(summary),
          summary,
          repetitions: load.result.repetitions,
          server: serverInfo,
          loadgen: loadgenInfo,
        };
      },
    );
    return stats ? { ...value, serverStats: stats } : value;
  } catch (error) {
    return { ...base, status: 'failed', reason: errorText(error), metrics: empty };
  }
}

async function runOpenLoop(
  options: ExperimentOptions,
  worker: LoadWorker,
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
  let serverCommandLine: string | undefined;
  try {
    const { value } = await withServer(options, model, 'echo-lp', pinning, async (server) => {
      serverCommandLine = server.commandLine;
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
        status: 'ok' as const,
        serverCommandLine: `${server.commandLine}\n${load.result.commandLine}`,
      };
    });
    return value;
  } catch (error) {
    return {
      ...base,
      steps: [],
      sustainableRps: null,
      status: 'failed',
      reason: errorText(error),
      ...(serverCommandLine ? { serverCommandLine } : {}),
    };
  }
}

async function runWrkCheck(
  options: ExperimentOptions,
  model: ModelSpec,
  cell: CellRecord | undefined,
  pinning: CorePlan,
): Promise<WrkCheck> {
  const base = {
    model: model.id,
    modelLabel: model.label,
    connections: WRK_CONNECTIONS,
    autocannonRps: cell?.metrics.requestsPerSec ?? null,
    autocannonValid: cell?.summary?.valid ?? null,
  };
  try {
    const { value } = await withServer(options, model, 'http', pinning, async (server) => {
      const result = await runWrk({
        url: `http://${server.host}:${server.port}/plaintext`,
        connections: WRK_CONNECTIONS,
        threads: 1,
        durationSec: WRK_SECONDS[options.quick ? 'quick' : 'full'],
        warmupSec: options.quick ? 0 : 1,
        ...(pinning.loadgenCpu === undefined ? {} : { cpu: pinning.loadgenCpu }),
        signal: options.signal,
      });
      return {
        ...base,
        wrkRps: result.requestsPerSec,
        wrkP99Ms: Number.isFinite(result.latencyMs.p99) ? result.latencyMs.p99 : null,
        commandLine: `${server.commandLine}\n${result.commandLine}`,
      };
    });
    return value;
  } catch (error) {
    return { ...base, wrkRps: null, wrkP99Ms: null, commandLine: null, error: errorText(error) };
  }
}

/** Runs the throughput matrix and returns its report section. */
export async function runThroughput(options: ExperimentOptions): Promise<ReportSection> {
  const timing = options.quick ? QUICK_TIMING : FULL_TIMING;
  const pinning = choosePinning();
  const cells = planCells(options.quick);
  const runnable = cells.filter((c) => !c.skipReason);
  const openPlan = planOpenLoop(options.quick);
  const models = modelSpecs();
  const wrkModels = wrkAvailable() ? models.filter((m) => !options.quick || QUICK_WRK_MODELS.has(m.id)) : [];
  const wrkEstimate = (options.quick ? 3.5 : 5.5) * wrkModels.length;
  const eta = new Eta(
    runnable.reduce((s, c) => s + c.estimateSec, 0) + estimateOpenLoopSec(openPlan) + wrkEstimate,
  );
  const total = runnable.length + openPlan.models.length + wrkModels.length;
  let done = 0;
  const warnings: string[] = [];
  const report = (scenario: string, message?: string): void =>
    options.progress({ scenario, done, total, etaSeconds: eta.seconds(), ...(message ? { message } : {}) });

  const records: CellRecord[] = [];
  const openLoop: OpenLoopRecord[] = [];
  const worker = new LoadWorker(pinning.loadgenCpu, options.signal);
  try {
    for (const cell of cells) {
      if (options.signal.aborted) break;
      if (cell.skipReason) {
        records.push(await runCell(options, worker, cell, timing, pinning));
        continue;
      }
      report(`throughput: ${cell.model.id} × ${cell.workload.label} × ${cell.connections} conns`);
      const record = await runCell(options, worker, cell, timing, pinning);
      records.push(record);
      done++;
      eta.add(cell.estimateSec);
      if (record.status !== 'ok' && !options.signal.aborted)
        report(`throughput: ${cell.key}`, `${record.status}: ${record.reason ?? ''}`.slice(0, 160));
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
      openLoop.push(await runOpenLoop(options, worker, model, basis, pinning));
      done++;
      eta.add(estimateOpenLoopSec(openPlan) / openPlan.models.length);
    }
  } finally {
    await worker.stop();
  }

  const wrkCrossCheck: WrkCheck[] = [];
  if (wrkModels.length === 0)
    warnings.push('wrk is not installed: the top HTTP rates are not cross-checked (apt install wrk)');
  for (const model of wrkModels) {
    if (options.signal.aborted) break;
    report(`throughput: wrk cross-check ${model.id} × /plaintext × ${WRK_CONNECTIONS}`);
    const cell = records.find((r) => r.key === `${model.id} × plaintext × ${WRK_CONNECTIONS}`);
    wrkCrossCheck.push(await runWrkCheck(options, model, cell, pinning));
    done++;
    eta.add(wrkEstimate / wrkModels.length);
  }

  // A cell wrk outran by a wide margin was measured at autocannon's ceiling: invalid, whatever the CPU said.
  for (const check of wrkCrossCheck) {
    if (
      check.wrkRps === null ||
      !check.autocannonRps ||
      check.wrkRps / check.autocannonRps < WRK_CEILING_RATIO
    )
      continue;
    const index = records.findIndex((r) => r.key === `${check.model} × plaintext × ${WRK_CONNECTIONS}`);
    const record = records[index];
    if (!record?.summary?.valid) continue;
    records[index] = {
      ...record,
      summary: {
        ...record.summary,
        valid: false,
        invalidReason: `wrk measured ${(check.wrkRps / check.autocannonRps).toFixed(2)}× autocannon's rate on the same server: autocannon set the pace`,
      },
    };
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
    cells: records,
    openLoop,
    wrkCrossCheck,
    warnings,
  };
  return buildThroughputSection(results);
}

/**
 * The balancer comparison: HTTP keep-alive requests through `iolab balance` against the same two backends
 * reached directly, through HAProxy `mode tcp` (nbthread 1), nginx `stream` (1 process) and a naive
 * `stream.pipeline` proxy — one run, one client, one set of backends, every proxy pinned to the same core.
 *
 * Repetitions are interleaved in rotating order (rep 1: A B C, rep 2: B C A, …) so slow drift of a shared machine
 * spreads over all targets instead of penalising whichever ran last.
 *
 * Every process is a harness-managed child, so none outlives this one. The harness's registry signals one
 * pid, not a process group, so every child here is a single process: nginx runs with `master_process off`,
 * HAProxy with `-db` (foreground, no fork). This process runs nothing it measures.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  diffSamples,
  type ExperimentOptions,
  findExecutable,
  planCores,
  type ReportSection,
  rotation,
  sampleTree,
} from '@iolab/harness';
import { autocannonClient, type Client, type ClientContext, wrkClient } from './clients.js';
import { type ProfileSummary, summariseCpuProfile } from './cpu-profile.js';
import { PeerProcesses, STOP_GRACE_MS } from './peer-process.js';
import { chart, conclusions, fmt, renderMarkdown } from './report.js';
import {
  type BalancerExperimentResults,
  computeRatios,
  type RunResult,
  summarise,
  type TargetName,
} from './results.js';
import {
  BACKEND_DESCRIPTIONS,
  type BackendKind,
  type RunningTarget,
  type Skipped,
  startBackends,
  startIolab,
  startTargets,
  type TargetSetup,
} from './targets.js';
import { balancerVerdicts } from './verdicts.js';

/** Knobs for the standalone runner; the report orchestrator only passes {@link ExperimentOptions}. */
export interface BalancerExperimentExtras {
  /** Run `iolab balance` with `--cpu-prof` in one extra load run and summarise where its CPU went. */
  readonly profile?: boolean;
  readonly connections?: number;
  readonly targets?: readonly TargetName[];
  readonly log?: (line: string) => void;
  /**
   * Backends: `nginx` (default when installed: a C server answering from memory costs the shared core least,
   * so the proxy under test sets the pace), `iolab` (`iolab serve loop --protocol http`; the default without
   * nginx, falling back to `node` if it does not start) or `node` (two node:http processes).
   */
  readonly backend?: BackendKind;
}

/** Every backend kind answers this path with a small 200 (nginx and node:http answer any path). */
const REQUEST_PATH = '/plaintext';
/** Keep-alive connections: enough to keep a single-threaded proxy busy, few enough for one client core. */
const DEFAULT_CONNECTIONS = 50;
const ALL_TARGETS: readonly TargetName[] = ['direct', 'iolab', 'haproxy', 'nginx', 'naive'];

interface Timing {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly repetitions: number;
}

/** Quick mode runs one client: wrk when installed (starts at once, needs the least CPU), else autocannon. */
function chooseClients(ctx: ClientContext, quick: boolean, skipped: Skipped[]): Client[] {
  // runWrk looks wrk up on PATH, so this check must too.
  const wrk = findExecutable('wrk');
  const clients: Client[] = [];
  if (!quick || !wrk) clients.push(autocannonClient(ctx));
  else skipped.push({ target: 'autocannon (client)', reason: 'quick mode runs wrk only' });
  if (!wrk) skipped.push({ target: 'wrk (client)', reason: 'wrk is not installed; autocannon only' });
  else clients.push(wrkClient(ctx));
  return clients;
}

/** Warm-up per client × target, then the interleaved repetitions; returns every measured run. */
async function measure(
  options: ExperimentOptions,
  clients: readonly Client[],
  targets: readonly RunningTarget[],
  timing: Timing,
  log: (line: string) => void,
): Promise<RunResult[]> {
  const { signal } = options;
  const url = (target: RunningTarget): string => `http://127.0.0.1:${target.port}${REQUEST_PATH}`;
  const total = clients.length * targets.length * (timing.repetitions + 1);
  let done = 0;
  const progress = (scenario: string): void =>
    options.progress({
      scenario: `balancer: ${scenario}`,
      done,
      total,
      etaSeconds: (total - done) * (timing.durationSeconds + 0.5),
    });
  const runs: RunResult[] = [];
  for (const client of clients) {
    for (const target of targets) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      progress(`${client.name} warm-up ${target.name}`);
      await client.run(url(target), timing.warmupSeconds, timing.connections);
      done++;
    }
    for (let rep = 1; rep <= timing.repetitions; rep++) {
      for (const target of rotation(targets, rep - 1)) {
        if (signal.aborted) throw signal.reason ?? new Error('aborted');
        progress(`${client.name} → ${target.name} rep ${rep}/${timing.repetitions}`);
        // The proxy's whole process tree, in case a peer forks after all.
        const before = target.proc ? sampleTree(target.proc.pid) : undefined;
        const result = await client.run(url(target), timing.durationSeconds, timing.connections);
        const after = target.proc ? sampleTree(target.proc.pid) : undefined;
        done++;
        const run: RunResult = {
          target: target.name,
          client: client.name,
          repetition: rep,
          requestsPerSecond: result.requestsPerSecond,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          errors: result.errors,
          proxyCpuPercent: before && after ? diffSamples(before, after).cpuPercent : null,
          clientCpuPercent: result.cpuPercent,
        };
        runs.push(run);
        log(
          `${client.name} ${target.name} rep ${rep}: ${fmt(run.requestsPerSecond)} req/s p99 ${fmt(run.p99Ms, 2)} ms` +
            ` proxy cpu ${fmt(run.proxyCpuPercent)}% client cpu ${fmt(run.clientCpuPercent)}%`,
        );
      }
    }
  }
  return runs;
}

/** One extra run of `iolab balance --cpu-prof` under the same load, summarised by self time. */
async function profileIolab(
  setup: TargetSetup,
  backends: readonly string[],
  client: Client,
  timing: Timing,
): Promise<ProfileSummary | undefined> {
  const profDir = join(setup.dir, 'prof');
  const target = await startIolab(setup, backends, ['--cpu-prof', '--cpu-prof-dir', profDir]);
  await client.run(
    `http://127.0.0.1:${target.port}${REQUEST_PATH}`,
    timing.durationSeconds * 2,
    timing.connections,
  );
  await target.proc?.stop('SIGTERM', STOP_GRACE_MS);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file) return summariseCpuProfile(join(profDir, file));
  setup.skipped.push({
    target: 'profile',
    reason: 'iolab balance wrote no .cpuprofile (did it exit cleanly?)',
  });
  return undefined;
}

/**
 * Runs the comparison and returns a report section. Throws only when nothing could be measured (backends or
 * `iolab balance` would not start); a missing peer (HAProxy, nginx, wrk) is skipped with a note.
 */
export async function runBalancerExperiment(
  options: ExperimentOptions,
  extras: BalancerExperimentExtras = {},
): Promise<ReportSection> {
  const { signal, quick } = options;
  const log = extras.log ?? (() => {});
  const commands: string[] = [];
  const skipped: Skipped[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'iolab-balancer-bench-'));
  const timing: Timing = {
    connections: extras.connections ?? DEFAULT_CONNECTIONS,
    durationSeconds: quick ? 2 : 5,
    warmupSeconds: quick ? 1 : 2,
    repetitions: quick ? 3 : 5,
  };
  const plan = planCores();
  const proxyCpu = plan.serverCpu ?? null;
  // Backends share the client's core so the proxy's core is the proxy's alone.
  const clientCpu = plan.loadgenCpu ?? null;
  const peers = new PeerProcesses(signal, commands);
  const setup: TargetSetup = {
    peers,
    signal,
    cliPath: options.cliPath,
    dir,
    proxyCpu,
    backendCpu: clientCpu,
    skipped,
  };

  try {
    const backends = await startBackends(setup, extras.backend);
    const backendList = backends.ports.map((p) => `127.0.0.1:${p}`);
    log(`backends on ${backendList.join(', ')}`);
    const targets = await startTargets(setup, new Set(extras.targets ?? ALL_TARGETS), backends.ports);
    const clients = chooseClients({ signal, commands, clientCpu }, quick, skipped);
    const runs = await measure(options, clients, targets, timing, log);
    const profile =
      extras.profile && !signal.aborted && clients[0]
        ? await profileIolab(setup, backendList, clients[0], timing)
        : undefined;

    const summary = summarise(runs);
    const results: BalancerExperimentResults = {
      settings: { ...timing, proxyCpu, clientCpu, backend: BACKEND_DESCRIPTIONS[backends.kind] },
      skipped,
      runs,
      summary,
      ratios: computeRatios(summary),
      ...(profile ? { profile } : {}),
    };
    return {
      id: 'balancer',
      title: 'Layer-4 balancer: iolab balance vs HAProxy, nginx stream and a naive proxy',
      markdown: renderMarkdown(results),
      conclusions: conclusions(results),
      charts: [chart(summary)],
      commands,
      results,
      verdicts: balancerVerdicts(results),
    };
  } finally {
    await peers.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

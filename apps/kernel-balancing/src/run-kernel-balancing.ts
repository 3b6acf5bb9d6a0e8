/**
 * The run: build the lab, start three real servers, put each target in front of them in turn and load it
 * with wrk from the client namespace, ask who answered and which client address each real server saw,
 * attempt DR, then the keepalived failover. Returns plain results; rendering is kernel-balancing-report.ts.
 */
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProgressEvent, rotation } from '@iolab/harness';
import { createLab, findTool, labUnavailableReason } from '@iolab/netlab';
import { type DirectRoutingResult, tryDirectRouting } from './direct-routing.js';
import { type FailoverResults, runFailover } from './failover.js';
import {
  type LoadRun,
  type RealServerKind,
  realServerKind,
  runWrkInClient,
  startRealServers,
  whoAnswers,
} from './lab-processes.js';
import {
  type RunningTarget,
  routeForAllTargets,
  startTarget,
  TARGET_NAMES,
  type TargetName,
  targetUnavailable,
  wrkPath,
} from './targets.js';

export interface LoadPlan {
  readonly connections: number;
  /** Length of one measurement window, s (wrk -d). */
  readonly durationSec: number;
  /** Every target at once, before the first window (0: none). */
  readonly warmupSec: number;
  /** Interleaved windows per target: window w measures the targets in the list rotated by w. */
  readonly windows: number;
}

/**
 * Quick: three 1 s windows per target after 1 s of warm-up (all targets at once); the section stays near a
 * minute on two cores. Full: five 2 s windows after 2 s of warm-up.
 */
export const QUICK_PLAN: LoadPlan = { connections: 32, durationSec: 1, warmupSec: 1, windows: 3 };
export const FULL_PLAN: LoadPlan = { connections: 64, durationSec: 2, warmupSec: 2, windows: 5 };

/**
 * Targets measured under load. "iolab+PROXY v2" is only asked who it saw (the client-address column): its
 * forwarding is iolab balance's plus a 28-byte header per connection, so its throughput would add a window
 * per round and nothing to read.
 */
export const LOADED_TARGETS: readonly TargetName[] = ['direct', 'iolab', 'haproxy', 'nginx', 'nft NAT'];

/** Abort listeners the run's own signal allows before Node warns: ~3 per target plus servers and probes. */
const MAX_ABORT_LISTENERS = 64;

/** A target is `failed` when its errors (socket errors, timeouts, non-2xx) exceed this share of requests. */
export const MAX_ERROR_SHARE = 0.01;

export interface TargetResult {
  readonly target: TargetName;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason?: string;
  /** One per window, in window order (empty for a target only probed for its client address). */
  readonly runs: readonly LoadRun[];
  /** Client address each real server reported, with how many answers said so. */
  readonly seen: Readonly<Record<string, number>>;
  /** Answers per real server in the who-probe (new connections). */
  readonly servers: Readonly<Record<string, number>>;
  readonly commandLine: string;
}

export interface KernelBalancingResults {
  /** `skipped` with the reason when the lab cannot run here (not root, no nft/wrk). */
  readonly status: 'ok' | 'skipped';
  readonly reason?: string;
  readonly quick: boolean;
  readonly plan: LoadPlan;
  /** The order targets were measured in, one list per window (the rotation). */
  readonly windowOrder: readonly (readonly TargetName[])[];
  readonly clientAddress: string;
  readonly vip: string;
  readonly realServerKind: RealServerKind;
  readonly targets: readonly TargetResult[];
  readonly directRouting:
    | DirectRoutingResult
    | { readonly works: false; readonly reason: string }
    | undefined;
  readonly failover: FailoverResults | { readonly error: string } | undefined;
  readonly commands: readonly string[];
}

export interface RunOptions {
  readonly quick: boolean;
  readonly cliPath: string;
  readonly signal: AbortSignal;
  readonly progress: (e: ProgressEvent) => void;
  /** Subset of targets (tests); default all. */
  readonly targets?: readonly TargetName[];
  readonly failover?: boolean;
  readonly directRouting?: boolean;
  readonly plan?: LoadPlan;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Why this experiment cannot run here (one line), or undefined. */
export function kernelBalancingUnavailable(): string | undefined {
  const lab = labUnavailableReason(['ip', 'nft', 'sysctl']);
  if (lab) return lab;
  if (!wrkPath()) return 'needs wrk, which is not installed';
  return undefined;
}

function countOf(xs: readonly string[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}

/** Why a loaded target's windows cannot be trusted (errors above MAX_ERROR_SHARE, nothing answered), or undefined. */
function loadFailure(runs: readonly LoadRun[]): string | undefined {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const errors = runs.reduce((a, r) => a + r.errors + r.non2xx, 0);
  if (requests === 0) return 'nothing answered under load';
  if (errors > requests * MAX_ERROR_SHARE)
    return `${errors} errors in ${requests} requests (over ${MAX_ERROR_SHARE * 100} %)`;
  return undefined;
}

interface Slot {
  readonly name: TargetName;
  readonly running: RunningTarget;
  readonly who: Awaited<ReturnType<typeof whoAnswers>>;
  readonly runs: LoadRun[];
  error?: string;
}

export async function runKernelBalancing(o: RunOptions): Promise<KernelBalancingResults> {
  const plan = o.plan ?? (o.quick ? QUICK_PLAN : FULL_PLAN);
  const unavailable = kernelBalancingUnavailable();
  const base = {
    quick: o.quick,
    plan,
    windowOrder: [],
    clientAddress: '',
    vip: '',
    realServerKind: realServerKind(),
    targets: [],
    directRouting: undefined,
    failover: undefined,
    commands: [],
  };
  if (unavailable) return { ...base, status: 'skipped', reason: unavailable };
  const wanted = o.targets ?? TARGET_NAMES;
  const doFailover = o.failover ?? true;
  const doDr = o.directRouting ?? true;
  const total = 2 + plan.windows + (doDr ? 1 : 0) + (doFailover ? 1 : 0);
  let done = 0;
  const step = (scenario: string): void =>
    o.progress({ scenario: `kernel balancing: ${scenario}`, done: done++, total });

  // One signal of our own for the lab's children: every target, probe and wrk run adds an abort listener,
  // and with all targets starting together there are more than Node's default warning threshold of 10.
  const local = new AbortController();
  setMaxListeners(MAX_ABORT_LISTENERS, local.signal);
  const forward = (): void => local.abort(o.signal.reason);
  if (o.signal.aborted) forward();
  else o.signal.addEventListener('abort', forward, { once: true });
  const signal = local.signal;

  const lab = createLab({ realServers: 3, directors: doFailover ? 2 : 1 });
  const dir = mkdtempSync(join(tmpdir(), 'iolab-kernel-'));
  const commands: string[] = [];
  const targets: TargetResult[] = [];
  const windowOrder: TargetName[][] = [];
  let directRouting: KernelBalancingResults['directRouting'];
  let failover: KernelBalancingResults['failover'];
  const slots: Slot[] = [];
  try {
    const d1 = lab.directors[0]!;
    lab.setAddress(d1, 'front', `${lab.vip}/24`, true);
    lab.setAddress(d1, 'back', `${lab.gateway}/24`, true);
    routeForAllTargets(lab);
    const servers = await startRealServers(lab, signal, dir);
    commands.push(...servers.map((s) => s.commandLine));

    // Every target up at once, each on its own port, so the windows can interleave them.
    step('starting the targets');
    const startable = wanted.filter((name) => {
      const why = targetUnavailable(name);
      if (why)
        targets.push({
          target: name,
          status: 'skipped',
          reason: why,
          runs: [],
          seen: {},
          servers: {},
          commandLine: '',
        });
      return !why;
    });
    const started = await Promise.allSettled(
      startable.map(async (name) => {
        const running = await startTarget(name, { lab, cliPath: o.cliPath, dir, signal });
        try {
          // Readiness and the client-address row in one: new connections until one answers, then six more.
          const who = await whoAnswers(lab, running.url, 6, signal);
          if (who.answers.length === 0) throw new Error(`no answer from ${running.url}`);
          return { name, running, who, runs: [] } satisfies Slot;
        } catch (error) {
          await running.stop();
          throw error;
        }
      }),
    );
    if (signal.aborted) throw signal.reason;
    started.forEach((s, i) => {
      const name = startable[i]!;
      if (s.status === 'fulfilled') {
        slots.push(s.value);
        commands.push(s.value.running.commandLine);
      } else
        targets.push({
          target: name,
          status: 'failed',
          reason: errorText(s.reason),
          runs: [],
          seen: {},
          servers: {},
          commandLine: '',
        });
    });
    // Probed only: stopped before the load so it does not sit beside the measured ones.
    for (const s of slots.filter((x) => !LOADED_TARGETS.includes(x.name))) await s.running.stop();
    const loaded = slots.filter((x) => LOADED_TARGETS.includes(x.name));

    const load = (s: Slot, durationSec: number): Promise<LoadRun> =>
      runWrkInClient(lab, s.running.url, {
        connections: plan.connections,
        durationSec,
        warmupSec: 0,
        proc: s.running.proc,
        signal,
      });
    if (plan.warmupSec > 0) {
      // All targets at once: a warm-up only has to run each path (iolab balance's JIT, the proxies' buffers,
      // conntrack), not measure it, so it costs one warm-up's time instead of one per target.
      step('warm-up');
      await Promise.all(
        loaded.map(async (s) => {
          try {
            await load(s, plan.warmupSec);
          } catch (error) {
            if (!signal.aborted) s.error = errorText(error);
          }
        }),
      );
      if (signal.aborted) throw signal.reason;
    } else done++;
    for (let w = 0; w < plan.windows && !signal.aborted; w++) {
      const order = rotation(loaded, w).filter((s) => s.error === undefined);
      windowOrder.push(order.map((s) => s.name));
      step(`window ${w + 1}/${plan.windows} (${order.map((s) => s.name).join(', ')})`);
      for (const s of order) {
        try {
          s.runs.push(await load(s, plan.durationSec));
        } catch (error) {
          if (signal.aborted) throw error;
          s.error = errorText(error);
        }
      }
    }
    if (slots[0]?.runs[0]) commands.push(slots[0].runs[0].commandLine);
    for (const s of slots) {
      const loadedHere = LOADED_TARGETS.includes(s.name);
      const why = s.error ?? (loadedHere ? loadFailure(s.runs) : undefined);
      targets.push({
        target: s.name,
        status: why ? 'failed' : 'ok',
        ...(why ? { reason: why } : {}),
        runs: s.runs,
        seen: countOf(s.who.answers.map((a) => a.seen)),
        servers: countOf(s.who.answers.map((a) => a.server)),
        commandLine: s.running.commandLine,
      });
    }
    for (const s of slots) await s.running.stop();
    // Report rows in the list's order, whatever order they finished in.
    targets.sort((a, b) => wanted.indexOf(a.target) - wanted.indexOf(b.target));

    if (doDr && !signal.aborted) {
      step('direct routing (DR)');
      try {
        directRouting = await tryDirectRouting(lab, {
          connections: plan.connections,
          durationSec: plan.durationSec,
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        directRouting = { works: false, reason: errorText(error) };
      }
    }
    if (doFailover && !signal.aborted) {
      step('keepalived failover');
      if (!findTool('keepalived')) failover = { error: 'keepalived is not installed' };
      else {
        lab.setAddress(d1, 'front', `${lab.vip}/24`, false);
        lab.setAddress(d1, 'back', `${lab.gateway}/24`, false);
        try {
          failover = await runFailover(lab, o.cliPath, { quick: o.quick, signal });
          commands.push(...failover.commands);
        } catch (error) {
          if (signal.aborted) throw error;
          failover = { error: errorText(error) };
        }
      }
    }
    for (const s of servers) await s.stop('SIGTERM', 2_000);
  } finally {
    // Stopping twice is harmless; on an abort or a throw the targets are still up here.
    await Promise.allSettled(slots.map((s) => s.running.stop()));
    lab.destroy();
    rmSync(dir, { recursive: true, force: true });
    o.signal.removeEventListener('abort', forward);
  }
  return {
    status: 'ok',
    quick: o.quick,
    plan,
    windowOrder,
    clientAddress: lab.client.address,
    vip: lab.vip,
    realServerKind: realServerKind(),
    targets,
    directRouting,
    failover,
    commands,
  };
}

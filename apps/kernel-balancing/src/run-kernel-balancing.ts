/**
 * The run: build the lab, start three real servers, put each target in front of them in turn and load it
 * with wrk from the client namespace, ask who answered and which client address each real server saw,
 * attempt DR, then the keepalived failover. Returns plain results; rendering is kernel-balancing-report.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@iolab/harness';
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
  startTarget,
  TARGET_NAMES,
  type TargetName,
  targetUnavailable,
  wrkPath,
} from './targets.js';

export interface LoadPlan {
  readonly connections: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly repetitions: number;
}

/** Quick: one short run per target, no warm-up, so the whole section stays near a minute on a quiet machine. */
export const QUICK_PLAN: LoadPlan = { connections: 32, durationSec: 2, warmupSec: 0, repetitions: 1 };
export const FULL_PLAN: LoadPlan = { connections: 64, durationSec: 10, warmupSec: 2, repetitions: 3 };

export interface TargetResult {
  readonly target: TargetName;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason?: string;
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

export async function runKernelBalancing(o: RunOptions): Promise<KernelBalancingResults> {
  const plan = o.plan ?? (o.quick ? QUICK_PLAN : FULL_PLAN);
  const unavailable = kernelBalancingUnavailable();
  const base = {
    quick: o.quick,
    plan,
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
  const total = wanted.length + (doDr ? 1 : 0) + (doFailover ? 1 : 0);
  let done = 0;
  const step = (scenario: string): void =>
    o.progress({ scenario: `kernel balancing: ${scenario}`, done: done++, total });

  const lab = createLab({ realServers: 3, directors: doFailover ? 2 : 1 });
  const dir = mkdtempSync(join(tmpdir(), 'iolab-kernel-'));
  const commands: string[] = [];
  const targets: TargetResult[] = [];
  let directRouting: KernelBalancingResults['directRouting'];
  let failover: KernelBalancingResults['failover'];
  try {
    const d1 = lab.directors[0]!;
    lab.setAddress(d1, 'front', `${lab.vip}/24`, true);
    lab.setAddress(d1, 'back', `${lab.gateway}/24`, true);
    const servers = await startRealServers(lab, o.signal, dir);
    commands.push(...servers.map((s) => s.commandLine));
    for (const name of wanted) {
      step(name);
      if (o.signal.aborted) break;
      const why = targetUnavailable(name);
      if (why) {
        targets.push({
          target: name,
          status: 'skipped',
          reason: why,
          runs: [],
          seen: {},
          servers: {},
          commandLine: '',
        });
        continue;
      }
      let running: RunningTarget | undefined;
      try {
        running = await startTarget(name, { lab, cliPath: o.cliPath, dir, signal: o.signal });
        commands.push(running.commandLine);
        // Readiness and the client-address row in one: new connections until one answers, then six more.
        const who = await whoAnswers(lab, running.url, 6, o.signal);
        if (who.answers.length === 0) throw new Error(`no answer from ${running.url}`);
        const runs: LoadRun[] = [];
        for (let i = 0; i < plan.repetitions; i++) {
          runs.push(
            await runWrkInClient(lab, running.url, {
              ...plan,
              warmupSec: i === 0 ? plan.warmupSec : 0,
              proc: running.proc,
              signal: o.signal,
            }),
          );
        }
        if (runs[0]) commands.push(runs[0].commandLine);
        const count = (xs: string[]): Record<string, number> => {
          const m: Record<string, number> = {};
          for (const x of xs) m[x] = (m[x] ?? 0) + 1;
          return m;
        };
        targets.push({
          target: name,
          status: 'ok',
          runs,
          seen: count(who.answers.map((a) => a.seen)),
          servers: count(who.answers.map((a) => a.server)),
          commandLine: running.commandLine,
        });
      } catch (error) {
        if (o.signal.aborted) throw error;
        targets.push({
          target: name,
          status: 'failed',
          reason: errorText(error),
          runs: [],
          seen: {},
          servers: {},
          commandLine: running?.commandLine ?? '',
        });
      } finally {
        await running?.stop();
      }
    }
    if (doDr && !o.signal.aborted) {
      step('direct routing (DR)');
      try {
        directRouting = await tryDirectRouting(lab, {
          connections: plan.connections,
          durationSec: plan.durationSec,
          signal: o.signal,
        });
      } catch (error) {
        if (o.signal.aborted) throw error;
        directRouting = { works: false, reason: errorText(error) };
      }
    }
    if (doFailover && !o.signal.aborted) {
      step('keepalived failover');
      if (!findTool('keepalived')) failover = { error: 'keepalived is not installed' };
      else {
        lab.setAddress(d1, 'front', `${lab.vip}/24`, false);
        lab.setAddress(d1, 'back', `${lab.gateway}/24`, false);
        try {
          failover = await runFailover(lab, o.cliPath, { quick: o.quick, signal: o.signal });
          commands.push(...failover.commands);
        } catch (error) {
          if (o.signal.aborted) throw error;
          failover = { error: errorText(error) };
        }
      }
    }
    for (const s of servers) await s.stop('SIGTERM', 2_000);
  } finally {
    lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    status: 'ok',
    quick: o.quick,
    plan,
    clientAddress: lab.client.address,
    vip: lab.vip,
    realServerKind: realServerKind(),
    targets,
    directRouting,
    failover,
    commands,
  };
}

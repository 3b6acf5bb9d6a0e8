/**
 * Runs every scenario against every target and protocol, reports progress, honours abort, and returns
 * the report section. Targets that cannot start (a model not built yet, no balancer) are recorded as
 * unavailable with the reason, not treated as a crash.
 */
import { readFileSync } from 'node:fs';
import type { ExperimentOptions, ReportSection } from '@iolab/harness';
import { AbortedError } from '@iolab/loadgen';
import { CHECKSUM_NAME, type WireProtocol } from './message-format.js';
import { runProbe } from './probe.js';
import { buildReport } from './report.js';
import type { RunRecord, SocketBufferSizes, StickyResults, UnavailableTarget } from './results.js';
import { scenarios as allScenarios, type Scenario } from './scenarios.js';
import { type RunningTarget, startTarget, TARGETS, type TargetId } from './targets.js';

export const PROTOCOLS: readonly WireProtocol[] = ['echo-lp', 'echo-line'];
/** One scenario's run; a healthy one takes well under a second. */
const PROBE_TIMEOUT_MS = 15_000;
/** libuv's read buffer: no single read returns more. */
const NODE_READ_BUFFER_BYTES = 64 * 1024;

function readNumbers(path: string): number[] | undefined {
  try {
    const values = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    return values.every(Number.isFinite) ? values : undefined;
  } catch {
    return undefined;
  }
}

export function socketBufferSizes(): SocketBufferSizes {
  return {
    tcpRmem: readNumbers('/proc/sys/net/ipv4/tcp_rmem'),
    tcpWmem: readNumbers('/proc/sys/net/ipv4/tcp_wmem'),
    coreRmemDefault: readNumbers('/proc/sys/net/core/rmem_default')?.[0],
    coreWmemDefault: readNumbers('/proc/sys/net/core/wmem_default')?.[0],
    nodeReadBufferBytes: NODE_READ_BUFFER_BYTES,
  };
}

/** Reasons shown in the report are one line; a stack trace's first line is rarely the informative one. */
const MAX_REASON_CHARS = 300;

/** The line of a failed start that says why: the child's error line if it printed one, else the message. */
function whyNotStarted(error: unknown): string {
  const tail = (error as { stderrTail?: string }).stderrTail ?? '';
  const lines = tail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line =
    lines.find((l) => /^\w*Error\b|\berror:/i.test(l)) ??
    lines.at(-1) ??
    (error instanceof Error ? error.message : String(error));
  return line.slice(0, MAX_REASON_CHARS);
}

export interface StickyRunOptions extends ExperimentOptions {
  /** Restrict to these targets (default: all). */
  readonly targets?: readonly TargetId[];
  readonly protocols?: readonly WireProtocol[];
  /** Replace the scenario list (tests use smaller ones). */
  readonly scenarios?: readonly Scenario[];
}

/** The sticky-packet experiment: see the package README for what each scenario shows. */
export async function runStickyPackets(options: StickyRunOptions): Promise<ReportSection> {
  const started = performance.now();
  const targets = options.targets ?? TARGETS;
  const protocols = options.protocols ?? PROTOCOLS;
  const scenarioList = options.scenarios ?? allScenarios(options.quick);
  const total = targets.length * protocols.length * scenarioList.length;
  const runs: RunRecord[] = [];
  const unavailable: UnavailableTarget[] = [];
  const commands: string[] = [];
  let done = 0;
  const signal = options.signal;
  const checkAbort = (): void => {
    if (signal.aborted) throw new AbortedError('sticky-packets');
  };

  for (const protocol of protocols) {
    for (const targetId of targets) {
      checkAbort();
      options.progress({ scenario: `sticky-packets: starting ${targetId} (${protocol})`, done, total });
      let target: RunningTarget;
      try {
        target = await startTarget(targetId, protocol, options.cliPath, signal);
      } catch (error) {
        checkAbort();
        unavailable.push({ target: targetId, protocol, reason: whyNotStarted(error) });
        done += scenarioList.length;
        continue;
      }
      commands.push(...target.commands);
      try {
        for (const scenario of scenarioList) {
          checkAbort();
          const elapsed = (performance.now() - started) / 1000;
          options.progress({
            scenario: `sticky-packets: ${targetId} × ${protocol} × ${scenario.id}`,
            done,
            total,
            ...(done > 0 ? { etaSeconds: Math.round((elapsed / done) * (total - done)) } : {}),
          });
          await target.reference?.configure(protocol, scenario.messageBytes);
          const probe = await runProbe({
            host: target.host,
            port: target.port,
            protocol,
            scenario,
            rawEcho: target.rawEcho,
            timeoutMs: PROBE_TIMEOUT_MS,
            signal,
          });
          const server = target.reference ? await target.reference.viewOf(probe.localPort) : undefined;
          runs.push({
            target: targetId,
            protocol,
            scenario: scenario.id,
            sent: probe.sent,
            messageBytes: scenario.messageBytes,
            complete: probe.complete,
            durationMs: probe.durationMs,
            error: probe.error,
            client: probe.client,
            server,
          });
          done++;
        }
      } finally {
        await target.stop();
      }
    }
  }
  options.progress({ scenario: 'sticky-packets: done', done: total, total, etaSeconds: 0 });
  const results: StickyResults = {
    quick: options.quick,
    checksum: CHECKSUM_NAME,
    socketBuffers: socketBufferSizes(),
    scenarios: scenarioList,
    runs,
    unavailable,
    durationSec: (performance.now() - started) / 1000,
  };
  return buildReport(results, commands);
}

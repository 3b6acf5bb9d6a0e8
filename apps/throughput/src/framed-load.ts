/**
 * The framed-echo part of the load worker: closed-loop repetitions, or an open-loop rate sweep that stops
 * once p99 passes its target. Runs inside the load worker process only.
 */
import { type FramedLoadResult, runFramedLoad } from '@iolab/loadgen';
import type { LoadJob, LoadJobResult, RepetitionResult, ServerUse } from './load-job.js';

/**
 * A refusing server (bio past its thread cap) may leave connects hanging in its backlog; a short timeout keeps
 * such a cell from spending the budget waiting, and they count as connect errors either way.
 */
export const FRAMED_CONNECT_TIMEOUT_MS = 2_000;
/** The framed generator's connects in flight at once (loadgen's MAX_CONCURRENT_CONNECTS). */
export const FRAMED_CONNECT_BATCH = 256;

type Measure = <T>(
  durationSec: number,
  run: () => Promise<T>,
) => Promise<{ value: T; server: ServerUse; startedAtMs: number }>;

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function fromFramed(result: FramedLoadResult, server: ServerUse): RepetitionResult {
  return {
    requests: result.completed,
    requestsPerSec: result.requestsPerSec,
    p50Ms: finite(result.latencyMs.p50),
    p99Ms: finite(result.latencyMs.p99),
    p999Ms: finite(result.latencyMs.p999),
    errors: result.connectErrors - result.refused + result.verifyFailures + result.unanswered,
    timeouts: result.unanswered,
    // A framed server refuses by closing: refused connects, connections closed before any answer, error replies.
    refusals: result.refused + result.closedBeforeResponse + result.errors,
    loadgenCpuPercent: result.loadgenCpu.cpuPercent,
    loadgenSaturated: result.saturated,
    server,
    ...(result.targetRate === undefined ? {} : { offeredRate: result.targetRate }),
  };
}

function commandOf(job: LoadJob, host: string, port: number, extra: string): string {
  return `framed generator (@iolab/loadgen runFramedLoad) echo-lp ${host}:${port} -c ${job.spec.connections} ${extra}`;
}

export async function runFramedJob(
  job: LoadJob,
  measure: Measure,
): Promise<Pick<LoadJobResult, 'repetitions' | 'commandLine'>> {
  const spec = job.spec;
  if (spec.kind === 'http' || spec.kind === 'startup') throw new Error('runFramedJob: not a framed job');
  const base = {
    host: spec.host,
    port: spec.port,
    protocol: 'echo-lp' as const,
    op: { kind: 'echo' as const, size: spec.payloadBytes },
    connections: spec.connections,
    connectTimeoutMs: FRAMED_CONNECT_TIMEOUT_MS,
  };
  const reps: RepetitionResult[] = [];
  if (spec.kind === 'framed') {
    if (job.warmupSec > 0) await runFramedLoad({ ...base, durationSec: job.warmupSec });
    for (let i = 0; i < job.repetitions; i++) {
      const { value, server, startedAtMs } = await measure(job.durationSec, () =>
        runFramedLoad({ ...base, durationSec: job.durationSec }),
      );
      reps.push({ ...fromFramed(value, server), startedAtMs });
    }
    return {
      repetitions: reps,
      commandLine: commandOf(
        job,
        spec.host,
        spec.port,
        `--depth 1 --size ${spec.payloadBytes} -d ${job.durationSec}s`,
      ),
    };
  }
  if (job.warmupSec > 0 && spec.rates[0] !== undefined) {
    await runFramedLoad({ ...base, rate: spec.rates[0], durationSec: job.warmupSec });
  }
  for (const rate of spec.rates) {
    const { value, server } = await measure(job.durationSec, () =>
      runFramedLoad({ ...base, rate, durationSec: job.durationSec }),
    );
    const rep = fromFramed(value, server);
    reps.push(rep);
    // Past the target the server is beyond sustainable; higher rates only pile up queues.
    if (rep.p99Ms === null || rep.p99Ms > spec.p99TargetMs) break;
  }
  return {
    repetitions: reps,
    commandLine: commandOf(
      job,
      spec.host,
      spec.port,
      `--rate ${spec.rates.map(Math.round).join(',')} (stepped, stop when p99 > ${spec.p99TargetMs} ms) --size ${spec.payloadBytes} -d ${job.durationSec}s`,
    ),
  };
}

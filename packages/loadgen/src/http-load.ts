/**
 * HTTP load with autocannon as a library, and the result shape every HTTP generator returns (`wrk` lives
 * in `wrk-load.ts`). autocannon is single-threaded JavaScript and can run out of CPU before a fast server
 * does: its `loadgenCpu.saturated` says when.
 */
import { formatCommandLine, type LoadgenCpu, startSelfSampler } from '@iolab/harness';
import autocannon from 'autocannon';
import { AbortedError, BadOptionError, LoadgenError } from './errors.js';

export interface HttpLoadOptions {
  readonly url: string;
  readonly connections: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining); 1 = one request, wait, next. */
  readonly pipelining?: number;
  readonly durationSec: number;
  /** A run of this length first, whose numbers are thrown away (JIT, TCP slow start, server pools). */
  readonly warmupSec?: number;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-request timeout; a request past it counts in `timeouts`. */
  readonly timeoutSec?: number;
  readonly signal?: AbortSignal;
}

export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Errors by kind, from wrk's `Socket errors: connect A, read B, write C, timeout D` and status counts. */
export interface HttpErrorBreakdown {
  /** socket()/connect() failed or the connection was refused (wrk does not retry a failed socket()). */
  readonly connect: number;
  /** A read failed (reset by the server) or the response did not parse. */
  readonly read: number;
  /** A write failed (e.g. EPIPE after the server closed). */
  readonly write: number;
  /** Responses slower than `timeoutSec` (wrk counts them when they arrive; it never closes a waiting socket). */
  readonly timeout: number;
  /** wrk's "Non-2xx or 3xx responses": in wrk's code, status ≥ 400. */
  readonly non2xx: number;
}

export interface HttpLoadResult {
  readonly tool: 'autocannon' | 'wrk';
  readonly url: string;
  readonly connections: number;
  readonly pipelining: number;
  /** Measured duration of the counted run (after warm-up), seconds. */
  readonly durationSec: number;
  /** Responses received in the counted run. */
  readonly requests: number;
  readonly requestsPerSec: number;
  /**
   * Closed-loop latency: each connection sends its next request only after a response, so a stalled server
   * also stalls the sending and the slow period is sampled less often ("coordinated omission"). Read the
   * tail as optimistic; the framed generator's open-loop mode measures from scheduled send times instead.
   * Resolution: autocannon records whole milliseconds (sub-millisecond latencies read as 0); wrk, µs.
   */
  readonly latencyMs: LatencyMs;
  /** Connection-level errors (reset, refused), timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  /** `errors` by kind, as wrk counts them (wrk only; autocannon does not break its errors down). */
  readonly errorBreakdown?: HttpErrorBreakdown;
  /** Response bytes received. */
  readonly bytes: number;
  /**
   * The generator's own CPU over the counted run: autocannon's from `process.cpuUsage`, wrk's from the
   * kernel's accounting of the wrk process (see `wrk-load.ts`). `undefined` only where procfs is missing.
   */
  readonly loadgenCpu: LoadgenCpu | undefined;
  /** The command (wrk) or the equivalent autocannon CLI line, for the report. */
  readonly commandLine: string;
}

/** Option checks shared by every HTTP generator (internal; not exported from the package). */
export function checkCommon(options: {
  connections: number;
  durationSec: number;
  pipelining?: number;
}): void {
  if (!Number.isInteger(options.connections) || options.connections < 1) {
    throw new BadOptionError('connections', `must be a positive integer, got ${options.connections}`);
  }
  if (!(options.durationSec > 0))
    throw new BadOptionError('durationSec', `must be > 0, got ${options.durationSec}`);
  if (options.pipelining !== undefined && (!Number.isInteger(options.pipelining) || options.pipelining < 1)) {
    throw new BadOptionError('pipelining', `must be a positive integer, got ${options.pipelining}`);
  }
}

function runAutocannonOnce(
  options: HttpLoadOptions,
  durationSec: number,
): Promise<{ result: autocannon.Result; cpu: LoadgenCpu }> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortedError(`autocannon ${options.url}`));
      return;
    }
    const sampler = startSelfSampler();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: options.pipelining ?? 1,
        duration: durationSec,
        method: options.method ?? 'GET',
        body: options.body,
        headers: options.headers ? { ...options.headers } : undefined,
        timeout: options.timeoutSec ?? 10,
      },
      (error, result) => {
        options.signal?.removeEventListener('abort', onAbort);
        const cpu = sampler.stop();
        if (options.signal?.aborted) reject(new AbortedError(`autocannon ${options.url}`));
        else if (error) reject(new LoadgenError('IOLAB_LOADGEN_TOOL_OUTPUT', `autocannon: ${String(error)}`));
        else resolve({ result, cpu });
      },
    );
    const onAbort = (): void => instance.stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs autocannon in this process against `url`: an optional warm-up run, then the counted run.
 * Latencies are closed-loop and therefore subject to coordinated omission (see {@link HttpLoadResult.latencyMs}).
 * Check `loadgenCpu.saturated`: when true, the rate is autocannon's ceiling, not the server's.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  checkCommon(options);
  if (options.warmupSec && options.warmupSec > 0) await runAutocannonOnce(options, options.warmupSec);
  const { result, cpu } = await runAutocannonOnce(options, options.durationSec);
  const durationSec = result.duration > 0 ? result.duration : options.durationSec;
  const pipelining = options.pipelining ?? 1;
  const argv = ['autocannon', '-c', String(options.connections), '-p', String(pipelining)];
  argv.push('-d', String(options.durationSec));
  if (options.method && options.method !== 'GET') argv.push('-m', options.method);
  argv.push(options.url);
  return {
    tool: 'autocannon',
    url: options.url,
    connections: options.connections,
    pipelining,
    durationSec,
    requests: result.requests.total,
    requestsPerSec: result.requests.total / durationSec,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    bytes: result.throughput.total,
    loadgenCpu: cpu,
    commandLine: `${formatCommandLine(argv)}  # as a library, in-process${options.warmupSec ? `, after ${options.warmupSec}s warm-up` : ''}`,
  };
}

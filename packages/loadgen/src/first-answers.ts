/**
 * The start-up probe: how long a server takes from N new connections to N first answers. A
 * thread-per-connection server starts one thread per connection (~200 ms each on a busy core), so at 100
 * connections its first steady-state request can be 20 s away; a throughput window that starts before then
 * measures thread start-up, not throughput. This is that figure, measured on its own.
 *
 * ```text
 * t=0 first connect ─┬─ conn 0: connect … request → answer (firstAnswerMs[0])  … stays open …
 *                    ├─ conn 1: connect … request → ……… answer                  … stays open …
 *   (≤ MAX_CONCURRENT_CONNECTS connects in flight at once)
 *                    └─ conn N-1:      connect … request → ……………… answer ─┤ allAnsweredMs
 *                                                                        └─ all destroyed together
 * ```
 *
 * Every connection stays open until all have answered (or `capSec` passes), so the server really holds N
 * connections at once. Server misbehaviour never throws: it is counted in `errors` by code.
 */
import { connect, type Socket } from 'node:net';
import { quantile } from '@iolab/harness';
import { EchoLpResponseDecoder } from '@iolab/protocols';
import { AbortedError, BadOptionError } from './errors.js';
import { encodeRequest } from './framed-client-codec.js';
import { MAX_CONCURRENT_CONNECTS } from './framed-load-run.js';
import { type AnswerProgress, HttpAnswerReader } from './http-answer-reader.js';

export type FirstAnswersRequest =
  | { readonly kind: 'http'; readonly path: string }
  | { readonly kind: 'echo-lp'; readonly payloadBytes: number };

export interface FirstAnswersOptions {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** What each connection sends, once: an HTTP/1.1 keep-alive GET, or one echo-lp echo frame. */
  readonly request: FirstAnswersRequest;
  /** Give up after this many seconds from the first connect; what has not answered by then is counted. */
  readonly capSec: number;
  readonly signal?: AbortSignal;
}

export interface FirstAnswersResult {
  readonly connections: number;
  /** Connections that got a complete, valid answer within the cap. */
  readonly answered: number;
  /** Every other connection (answered + failed = connections), each counted once in `errors`. */
  readonly failed: number;
  /** ms from the first connect until every connection had its answer; null when not all answered within capSec */
  readonly allAnsweredMs: number | null;
  /** Per connection, from its own connect start to its answer; null when none answered. */
  readonly firstAnswerMs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  readonly capSec: number;
  /**
   * Failed connections by cause: a socket error code (ECONNREFUSED, ECONNRESET, EMFILE, …), "closed" (the
   * server closed before answering), "bad-status" (HTTP status ≠ 200, or an echo-lp error status),
   * "bad-answer" (unparsable, too long, or an echo that is not the payload byte for byte), and at the cap
   * "timeout" (connected, no answer yet), "connect-timeout" (connect still pending) or "not-started" (still
   * waiting for a connect slot).
   */
  readonly errors: Record<string, number>;
}

/**
 * Largest answer body: an HTTP Content-Length beyond it, or an echo payload asked for beyond it, is refused.
 * A start-up probe needs one small answer; at 10,000 connections an echo payload is held twice per
 * connection (sent and expected), so 64 KiB bounds the probe at ~1.3 GB in the worst case.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

function check(options: FirstAnswersOptions): void {
  const { connections, port, capSec, request } = options;
  if (!Number.isInteger(connections) || connections < 1) {
    throw new BadOptionError('connections', `must be a positive integer, got ${connections}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadOptionError('port', `must be an integer in [1, 65535], got ${port}`);
  }
  if (!(capSec > 0) || !Number.isFinite(capSec)) {
    throw new BadOptionError('capSec', `must be a finite number > 0, got ${capSec}`);
  }
  if (request.kind === 'http') {
    if (!/^\/[\x21-\x7e]*$/.test(request.path)) {
      throw new BadOptionError(
        'request.path',
        `must start with / and hold no spaces or controls: ${request.path}`,
      );
    }
  } else if (
    !Number.isInteger(request.payloadBytes) ||
    request.payloadBytes < 0 ||
    request.payloadBytes > MAX_ANSWER_BYTES
  ) {
    throw new BadOptionError(
      'request.payloadBytes',
      `must be an integer in [0, ${MAX_ANSWER_BYTES}], got ${request.payloadBytes}`,
    );
  }
}

/** One connection's request bytes and the reader that judges its answer. */
function exchangeFor(
  options: FirstAnswersOptions,
  index: number,
): { bytes: Uint8Array; read: (chunk: Buffer) => AnswerProgress } {
  const { request, host, port } = options;
  if (request.kind === 'http') {
    const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const bytes = Buffer.from(
      `GET ${request.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: keep-alive\r\n\r\n`,
      'latin1',
    );
    const reader = new HttpAnswerReader(MAX_ANSWER_BYTES);
    return { bytes, read: (chunk) => reader.push(chunk) };
  }
  // The connection's index is woven into its payload: an answer meant for another connection fails.
  const encoded = encodeRequest('echo-lp', { kind: 'echo', size: request.payloadBytes }, index);
  const expect = encoded.expect as Buffer;
  const decoder = new EchoLpResponseDecoder({ maxBodyBytes: request.payloadBytes });
  let settled: AnswerProgress | undefined;
  return {
    bytes: encoded.bytes,
    read: (chunk) => {
      if (settled) return settled;
      let responses: ReturnType<EchoLpResponseDecoder['push']>;
      try {
        responses = decoder.push(chunk);
      } catch (error) {
        settled = { kind: 'bad', code: 'bad-answer', reason: String(error) };
        return settled;
      }
      const first = responses[0];
      if (!first) return { kind: 'need-more' };
      if (!first.ok) settled = { kind: 'bad', code: 'bad-status', reason: 'echo-lp error status' };
      else if (!expect.equals(first.body))
        settled = { kind: 'bad', code: 'bad-answer', reason: 'echo differs' };
      else settled = { kind: 'answered' };
      return settled;
    },
  };
}

/** Where one connection stands (one byte per connection in a Uint8Array). */
const Stage = { NotStarted: 0, Connecting: 1, Waiting: 2, Done: 3 } as const;

/**
 * Opens `connections` connections (at most {@link MAX_CONCURRENT_CONNECTS} connecting at once), sends one
 * request on each, and times each to its complete, valid answer. Resolves when all have answered or failed,
 * or at `capSec`; rejects only for bad options ({@link BadOptionError}) or the caller's abort
 * ({@link AbortedError}).
 */
export function measureFirstAnswers(options: FirstAnswersOptions): Promise<FirstAnswersResult> {
  check(options);
  const { connections: n, capSec, signal } = options;
  if (signal?.aborted) return Promise.reject(new AbortedError('measureFirstAnswers'));
  return new Promise((resolve, reject) => {
    const stages = new Uint8Array(n);
    const sockets = new Set<Socket>();
    const answerMs: number[] = [];
    const errors: Record<string, number> = {};
    let failed = 0;
    let settledCount = 0;
    let nextToOpen = 0;
    let connecting = 0;
    let firstConnectAt = Number.NaN;
    let lastAnswerAt = Number.NaN;
    let over = false;

    const fail = (index: number, code: string): void => {
      stages[index] = Stage.Done;
      failed++;
      errors[code] = (errors[code] ?? 0) + 1;
    };
    const destroyAll = (): void => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    };
    const finish = (): void => {
      if (over) return;
      over = true;
      clearTimeout(capTimer);
      signal?.removeEventListener('abort', onAbort);
      for (let i = 0; i < n; i++) {
        const stage = stages[i];
        if (stage === Stage.Waiting) fail(i, 'timeout');
        else if (stage === Stage.Connecting) fail(i, 'connect-timeout');
        else if (stage === Stage.NotStarted) fail(i, 'not-started');
      }
      destroyAll();
      const answered = answerMs.length;
      const at = (q: number): number => quantile(answerMs, q) as number;
      resolve({
        connections: n,
        answered,
        failed,
        allAnsweredMs: answered === n ? lastAnswerAt - firstConnectAt : null,
        firstAnswerMs: answered > 0 ? { p50: at(0.5), p99: at(0.99), max: at(1) } : null,
        capSec,
        errors,
      });
    };
    const onAbort = (): void => {
      if (over) return;
      over = true;
      clearTimeout(capTimer);
      destroyAll();
      reject(new AbortedError('measureFirstAnswers'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const capTimer = setTimeout(finish, capSec * 1000);

    const settle = (): void => {
      settledCount++;
      if (settledCount === n) finish();
    };

    const open = (index: number): void => {
      const exchange = exchangeFor(options, index);
      const startMs = performance.now();
      if (Number.isNaN(firstConnectAt)) firstConnectAt = startMs;
      stages[index] = Stage.Connecting;
      connecting++;
      let slotHeld = true;
      const releaseSlot = (): void => {
        if (!slotHeld) return;
        slotHeld = false;
        connecting--;
        // Deferred, so a burst of synchronous failures cannot recurse through every remaining connection.
        setImmediate(launch);
      };
      const socket = connect({ host: options.host, port: options.port });
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.once('connect', () => {
        releaseSlot();
        if (over || stages[index] !== Stage.Connecting) return;
        stages[index] = Stage.Waiting;
        socket.write(exchange.bytes);
      });
      socket.on('data', (chunk: Buffer) => {
        if (over || stages[index] === Stage.Done) return;
        const progress = exchange.read(chunk);
        if (progress.kind === 'need-more') return;
        if (progress.kind === 'answered') {
          const now = performance.now();
          stages[index] = Stage.Done;
          answerMs.push(now - startMs);
          lastAnswerAt = now;
          // Stays open (so the server keeps holding this connection) but reads nothing more.
          socket.pause();
        } else {
          fail(index, progress.code);
          socket.destroy();
        }
        settle();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        releaseSlot();
        if (over || stages[index] === Stage.Done) return;
        fail(index, error.code ?? 'error');
        settle();
      });
      socket.on('close', () => {
        releaseSlot();
        sockets.delete(socket);
        if (over || stages[index] === Stage.Done) return;
        fail(index, 'closed');
        settle();
      });
    };

    const launch = (): void => {
      while (!over && connecting < MAX_CONCURRENT_CONNECTS && nextToOpen < n) open(nextToOpen++);
    };
    launch();
  });
}

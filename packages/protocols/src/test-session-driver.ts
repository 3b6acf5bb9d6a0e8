// Test-only: drives a sans-I/O session in memory the way a server model would (Netty's EmbeddedChannel),
// and reads HTTP responses back with an independent parser (http-parser-js), so our writer is never
// checked by our own reader. Excluded from the build by tsconfig.build.json (`test-*.ts`).

import { bytewise, concat, splitAt } from '@iolab/testkit';
import httpParserJs from 'http-parser-js';
import { runOperationSync } from './operations.js';
import type { OperationResult, ServerSession, SessionOutput, Work } from './session.js';

// The tree's one copy of the chunking helpers lives in testkit; re-exported for this package's tests.
export { bytewise, concat, splitAt };

const { HTTPParser } = httpParserJs;

/** Sleep that returns at once: in-memory tests check bytes, not time. */
export function noSleep(): void {}

export interface DriveResult {
  readonly bytes: Uint8Array;
  readonly closed: boolean;
  /** Every op the session asked to run, in the order it asked. */
  readonly work: readonly Work[];
}

export type CompletionOrder = 'inline' | 'reverse' | ((pending: Work[]) => Work[]);

/**
 * Feeds `chunks` to `session`. With `inline`, each op runs as soon as it is issued (what the loop does
 * for a fast op); otherwise ops are collected after each chunk and completed in the given order.
 * Stops feeding once the session says close. Calls `peerEnded()` at the end when `endInput` is set.
 */
export function drive(
  session: ServerSession,
  chunks: readonly Uint8Array[],
  options: { order?: CompletionOrder; endInput?: boolean; reuseReadBuffer?: boolean } = {},
): DriveResult {
  // Like a model with one read buffer: every chunk lands in the same memory, scribbled over after use.
  const scratch = options.reuseReadBuffer
    ? new Uint8Array(Math.max(1, ...chunks.map((c) => c.length)))
    : undefined;
  const order = options.order ?? 'inline';
  const sent: Uint8Array[] = [];
  const allWork: Work[] = [];
  let closed = false;
  const pending: Work[] = [];

  const take = (out: SessionOutput): void => {
    sent.push(...out.send);
    if (out.close) closed = true;
    allWork.push(...out.work);
    pending.push(...out.work);
  };
  const run = (w: Work): OperationResult => runOperationSync(w.op, noSleep);
  const settle = (): void => {
    while (pending.length > 0) {
      const batch = pending.splice(0, pending.length);
      const ordered = order === 'inline' ? batch : order === 'reverse' ? batch.reverse() : order(batch);
      for (const w of ordered) take(session.complete(w.id, run(w)));
    }
  };

  for (const chunk of chunks) {
    if (closed) break;
    if (scratch) {
      scratch.set(chunk);
      take(session.receive(scratch.subarray(0, chunk.length)));
      scratch.fill(0xee);
    } else {
      take(session.receive(chunk));
    }
    settle();
  }
  if (options.endInput && !closed) {
    take(session.peerEnded());
    settle();
  }
  return { bytes: concat(sent), closed, work: allWork };
}

export interface ParsedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** Parses a concatenation of HTTP responses with http-parser-js; throws if the bytes are not valid HTTP. */
export function parseResponses(
  bytes: Uint8Array,
  options: { headRequests?: boolean } = {},
): ParsedResponse[] {
  const parser = new HTTPParser(HTTPParser.RESPONSE);
  const out: ParsedResponse[] = [];
  let status = 0;
  let headers: Record<string, string> = {};
  let body: Uint8Array[] = [];
  parser[HTTPParser.kOnHeadersComplete] = (info) => {
    status = info.statusCode;
    headers = {};
    for (let i = 0; i + 1 < info.headers.length; i += 2) {
      headers[info.headers[i]!.toLowerCase()] = info.headers[i + 1]!;
    }
    body = [];
    // Returning 1 tells the parser the response has no body (it answers a HEAD).
    return options.headRequests ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
    body.push(Uint8Array.prototype.slice.call(chunk, offset, offset + length));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    out.push({ status, headers, body: concat(body) });
  };
  const result = parser.execute(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (result instanceof Error) throw result;
  return out;
}

/** One byte per char (latin1), so '\xff' in a test string is the byte 0xff. */
export const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
/** Bytes as a latin1 string: comparing these is fast and a failure diff is readable. */
export const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

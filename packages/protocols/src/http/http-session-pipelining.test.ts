import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runOperationSync } from '../operations.js';
import type { Operation, OperationResult, Work } from '../session.js';
import {
  ascii,
  bytewise,
  concat,
  drive,
  latin1,
  noSleep,
  parseResponses,
  splitAt,
  text,
} from '../test-session-driver.js';
import { HttpServerSession } from './server-session.js';

/** A 16-deep pipeline mixing every route and both body framings, ending with Connection: close. */
const PIPELINE = ascii(
  [
    'GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world',
    'GET /json HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n1\r\ne\r\n0\r\nX-Trailer: t\r\n\r\n',
    'GET /cpu?n=2 HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /sleep?ms=0 HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /missing HTTP/1.1\r\nHost: a\r\n\r\n',
    'PUT /json HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}',
    '\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    'GET /cpu?n=0 HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /json HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n\x00\xff\r',
    'GET /plaintext HTTP/1.1\r\nhost: a\r\nX-Many:  spaced value  \r\n\r\n',
    'GET /sleep?ms=1 HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ].join(''),
);

const expected = drive(new HttpServerSession(), [PIPELINE]);

describe('HTTP pipelining', () => {
  it('answers all 16 requests in order and closes after the last', () => {
    const responses = parseResponses(expected.bytes);
    expect(responses.map((r) => r.status)).toEqual([
      200, 200, 200, 200, 200, 200, 404, 405, 200, 200, 200, 200, 200, 200, 200, 200,
    ]);
    expect(text(responses[1]!.body)).toBe('hello world');
    expect(text(responses[3]!.body)).toBe('abcde');
    expect([...responses[12]!.body]).toEqual([0x00, 0xff, 0x0d]);
    expect(responses[15]!.headers.connection).toBe('close');
    expect(expected.closed).toBe(true);
  });

  it('gives identical bytes at every split point', () => {
    for (let cut = 1; cut < PIPELINE.length; cut++) {
      const got = drive(new HttpServerSession(), splitAt(PIPELINE, [cut]));
      expect(latin1(got.bytes), `split at ${cut}`).toBe(latin1(expected.bytes));
      expect(got.closed).toBe(true);
    }
  });

  it('gives identical bytes one byte at a time', () => {
    const got = drive(new HttpServerSession(), bytewise(PIPELINE));
    expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
  });

  it('gives identical bytes under random chunking and random completion order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: PIPELINE.length - 1 }), { maxLength: 40 }),
        fc.infiniteStream(fc.nat()),
        (cuts, rand) => {
          const shuffle = (batch: Work[]): Work[] => {
            const copy = [...batch];
            const it = rand[Symbol.iterator]();
            for (let i = copy.length - 1; i > 0; i--) {
              const j = (it.next().value as number) % (i + 1);
              [copy[i], copy[j]] = [copy[j]!, copy[i]!];
            }
            return copy;
          };
          const got = drive(new HttpServerSession(), splitAt(PIPELINE, cuts), { order: shuffle });
          expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('runInline (the loop’s path): identical bytes, only declined ops become Work, any chunking and order', () => {
    // As the loop: everything but sleep answered inline; or more declined, so waiting slots sit
    // ahead of inline answers (which must then wait their turn).
    const declining =
      (declined: readonly string[]) =>
      (op: Operation): OperationResult | undefined =>
        declined.includes(op.kind) ? undefined : runOperationSync(op, noSleep);
    for (const declined of [['sleep'], ['sleep', 'cpu', 'echo'], []]) {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: PIPELINE.length - 1 }), { maxLength: 40 }),
          fc.boolean(),
          (cuts, reverse) => {
            const session = new HttpServerSession();
            session.runInline(declining(declined));
            const got = drive(session, splitAt(PIPELINE, cuts), {
              order: reverse ? 'reverse' : 'inline',
              reuseReadBuffer: true,
            });
            expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
            expect(got.closed).toBe(true);
            expect(got.work.every((w) => declined.includes(w.op.kind))).toBe(true);
          },
        ),
        { numRuns: 100 },
      );
    }
    const session = new HttpServerSession();
    session.runInline(declining(['sleep']));
    expect(latin1(drive(session, bytewise(PIPELINE)).bytes)).toBe(latin1(expected.bytes));
  });

  it('gives identical bytes when the model reuses one read buffer for every read', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: PIPELINE.length - 1 }), { maxLength: 40 }), (cuts) => {
        const got = drive(new HttpServerSession(), splitAt(PIPELINE, cuts), {
          reuseReadBuffer: true,
          order: 'reverse',
        });
        expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
      }),
      { numRuns: 150 },
    );
    expect(latin1(drive(new HttpServerSession(), bytewise(PIPELINE), { reuseReadBuffer: true }).bytes)).toBe(
      latin1(expected.bytes),
    );
  });

  it('releases nothing until the head of the line completes, then everything ready', () => {
    const session = new HttpServerSession();
    const out = session.receive(
      ascii(
        'GET /sleep?ms=5 HTTP/1.1\r\nHost: a\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n',
      ),
    );
    expect(out.work.map((w) => w.op.kind)).toEqual(['sleep', 'plaintext']);
    expect(out.send).toHaveLength(0); // the 404 is ready but must wait its turn
    const [sleep, plain] = out.work as [Work, Work];
    const second = session.complete(plain.id, runOperationSync(plain.op, noSleep));
    expect(second.send).toHaveLength(0);
    expect(session.pending).toBe(3);
    const first = session.complete(sleep.id, runOperationSync(sleep.op, noSleep));
    expect(parseResponses(concat(first.send)).map((r) => r.status)).toEqual([200, 200, 404]);
    expect(session.pending).toBe(0);
  });

  it('throws a typed error when a model completes an id twice or one never issued', () => {
    const session = new HttpServerSession();
    const [w] = session.receive(ascii('GET /json HTTP/1.1\r\nHost: a\r\n\r\n')).work as [Work];
    session.complete(w.id, runOperationSync(w.op, noSleep));
    expect(() => session.complete(w.id, runOperationSync(w.op, noSleep))).toThrow(
      expect.objectContaining({ code: 'IOLAB_SESSION_UNKNOWN_WORK' }),
    );
    expect(() => session.complete(999, runOperationSync(w.op, noSleep))).toThrow(
      expect.objectContaining({ code: 'IOLAB_SESSION_UNKNOWN_WORK' }),
    );
  });

  it('pauses parsing at maxPipelineDepth and resumes as responses complete', () => {
    const session = new HttpServerSession({ maxPipelineDepth: 2 });
    const five = ascii('GET /json HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(5));
    const out = session.receive(five);
    expect(out.work).toHaveLength(2);
    expect(session.inputPaused).toBe(true);
    let pending = [...out.work];
    const statuses: number[] = [];
    let rounds = 0;
    while (pending.length > 0 && rounds++ < 10) {
      const w = pending.shift()!;
      const next = session.complete(w.id, runOperationSync(w.op, noSleep));
      statuses.push(...parseResponses(concat(next.send)).map((r) => r.status));
      pending = pending.concat(next.work);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(session.inputPaused).toBe(false);
  });

  it('immediate replies (404s) never stall at the pipeline cap', () => {
    const result = drive(new HttpServerSession({ maxPipelineDepth: 2 }), [
      ascii('GET /nope HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(10)),
    ]);
    expect(parseResponses(result.bytes).map((r) => r.status)).toEqual(new Array(10).fill(404));
  });

  it('answers in-flight requests, then 503 and close, when a model reads past the pause', () => {
    const session = new HttpServerSession({ maxPipelineDepth: 1, maxPausedInputBytes: 64 });
    const first = session.receive(ascii('GET /json HTTP/1.1\r\nHost: a\r\n\r\n'));
    const flood = session.receive(ascii('GET /json HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(4)));
    expect(flood.work).toHaveLength(0);
    expect(flood.close).toBe(false);
    const w = first.work[0]!;
    const done = session.complete(w.id, runOperationSync(w.op, noSleep));
    expect(parseResponses(concat(done.send)).map((r) => r.status)).toEqual([200, 503]);
    expect(done.close).toBe(true);
  });

  it('does not alias the caller’s chunk: a model may reuse its read buffer', () => {
    const session = new HttpServerSession();
    const chunk = ascii('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    const out = session.receive(chunk);
    chunk.fill(0x21);
    const w = out.work[0]!;
    const done = session.complete(w.id, runOperationSync(w.op, noSleep));
    expect(text(parseResponses(concat(done.send))[0]!.body)).toBe('hello');
  });

  it('peerEnded answers what is in flight, then closes; a half request is dropped', () => {
    const session = new HttpServerSession();
    const out = session.receive(ascii('GET /json HTTP/1.1\r\nHost: a\r\n\r\nGET /plain'));
    const ended = session.peerEnded();
    expect(ended.close).toBe(false);
    const w = out.work[0]!;
    const done = session.complete(w.id, runOperationSync(w.op, noSleep));
    expect(parseResponses(concat(done.send))).toHaveLength(1);
    expect(done.close).toBe(true);
    expect(new HttpServerSession().peerEnded().close).toBe(true);
  });
});

import { createSession } from '@iolab/protocols';
import { describe, expect, it } from 'vitest';
import type { BlockingIo, ReadEnd } from './blocking-socket.js';
import { expireDeadline, ReadDeadline } from './read-deadline.js';
import { serveBlocking } from './serve-blocking.js';
import { SharedCounters } from './shared-counters.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ReadDeadline with the HTTP session', () => {
  it('counts the first head from accept, and a trickling client cannot move it', () => {
    const clock = manualClock();
    const session = createSession('http');
    const deadline = new ReadDeadline({ headerTimeoutMs: 1000, idleTimeoutMs: 5000 }, undefined, clock.now);
    expect(deadline.kind).toBe('header'); // new connection: the shorter timeout runs from accept
    expect(deadline.remaining()).toBe(1000);
    for (const byte of 'GET /plain') {
      clock.advance(90);
      session.receive(encoder.encode(byte));
      deadline.update(session, true);
    }
    expect(session.receiving).toBe('head');
    expect(deadline.remaining()).toBe(100); // 1000 − 10 × 90, not reset by any byte
    clock.advance(100);
    expect(deadline.remaining()).toBe(0);
    const output = expireDeadline(session, 'header', undefined);
    expect(output.close).toBe(true);
    expect(decoder.decode(output.send[0])).toMatch(
      /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close/,
    );
  });

  it('has no deadline while a request is in flight, and an idle one once it is answered', () => {
    const clock = manualClock();
    const session = createSession('http');
    const deadline = new ReadDeadline({ headerTimeoutMs: 1000, idleTimeoutMs: 5000 }, undefined, clock.now);
    const out = session.receive(encoder.encode('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n'));
    deadline.update(session, true);
    expect(deadline.kind).toBe('busy');
    expect(deadline.remaining()).toBe(Number.POSITIVE_INFINITY);
    clock.advance(60_000); // a slow handler is not timed out by either deadline
    session.complete(out.work[0]!.id, { ok: true, body: encoder.encode('x'), contentType: 'text/plain' });
    deadline.update(session, false);
    expect(deadline.kind).toBe('idle');
    expect(deadline.remaining()).toBe(5000);
    // The next request's head counts from its own first byte.
    clock.advance(4000);
    session.receive(encoder.encode('GET /'));
    deadline.update(session, true);
    expect(deadline.kind).toBe('header');
    expect(deadline.remaining()).toBe(1000);
  });

  it('times a body by the gap between its bytes (idle timeout), not by the header timeout', () => {
    const clock = manualClock();
    const session = createSession('http');
    const deadline = new ReadDeadline({ headerTimeoutMs: 1000, idleTimeoutMs: 3000 }, undefined, clock.now);
    session.receive(encoder.encode('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab'));
    deadline.update(session, true);
    expect(session.receiving).toBe('body');
    expect(deadline.remaining()).toBe(3000);
    clock.advance(2500);
    session.receive(encoder.encode('cd'));
    deadline.update(session, true);
    expect(deadline.remaining()).toBe(3000); // a byte restarts the body's clock
  });

  it('closes a silent new connection quietly, and counts it', () => {
    const counters = new SharedCounters();
    const session = createSession('http');
    const output = expireDeadline(session, 'header', counters);
    expect(output).toMatchObject({ send: [], close: true });
    expect(counters.headerTimeouts).toBe(1);
    expect(expireDeadline(createSession('http'), 'idle', counters)).toMatchObject({ send: [], close: true });
    expect(counters.idleTimeouts).toBe(1);
  });

  it('a framed partial frame is a partial head', () => {
    const session = createSession('echo-line');
    session.receive(encoder.encode('ECHO hal'));
    expect(session.receiving).toBe('head');
    const output = session.timedOut();
    expect(output.close).toBe(true);
    expect(decoder.decode(output.send[0])).toContain('IOLAB_FRAME_TIMEOUT');
  });

  it('disabled timeouts never expire', () => {
    const deadline = new ReadDeadline({ headerTimeoutMs: 0, idleTimeoutMs: 0 });
    expect(deadline.remaining()).toBe(Number.POSITIVE_INFINITY);
  });
});

/** A BlockingIo whose reads time out after the bytes scripted so far, and that records the timeouts asked. */
class TimedIo implements BlockingIo {
  readonly writes: string[] = [];
  readonly timeouts: number[] = [];
  closed = 0;
  readonly #reads: (string | ReadEnd)[];
  constructor(reads: (string | ReadEnd)[]) {
    this.#reads = reads;
  }
  read(timeoutMs = Number.POSITIVE_INFINITY): Uint8Array | ReadEnd {
    this.timeouts.push(timeoutMs);
    const next = this.#reads.shift();
    if (next === undefined) throw new Error('script exhausted');
    if (next === 'timeout') {
      // A real read blocks for the timeout; let wall time pass so the deadline really has.
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {}
      return 'timeout';
    }
    return next === 'eof' || next === 'drain' || next === 'abort' ? next : encoder.encode(next);
  }
  write(bytes: Uint8Array): void {
    this.writes.push(decoder.decode(bytes));
  }
  close(): void {
    this.closed++;
  }
}

describe('serveBlocking with deadlines (a read with a deadline, like SO_TIMEOUT)', () => {
  it('passes the deadline to read(), then answers a late head with 408 and closes', () => {
    const io = new TimedIo(['GET /pla', 'timeout']);
    const counters = new SharedCounters();
    const end = serveBlocking(createSession('http'), io, () => {}, counters, {
      headerTimeoutMs: 30,
      idleTimeoutMs: 1000,
    });
    expect(end).toBe('timeout');
    expect(io.timeouts[0]).toBeLessThanOrEqual(30);
    expect(io.writes.join('')).toMatch(/^HTTP\/1\.1 408 /);
    expect(io.closed).toBe(1);
    expect(counters.headerTimeouts).toBe(1);
  });

  it('closes an idle keep-alive connection without a word', () => {
    const io = new TimedIo(['GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n', 'timeout']);
    const counters = new SharedCounters();
    const end = serveBlocking(createSession('http'), io, () => {}, counters, {
      headerTimeoutMs: 1000,
      idleTimeoutMs: 30,
    });
    expect(end).toBe('timeout');
    expect(io.writes.join('')).toMatch(/^HTTP\/1\.1 200 /);
    expect(io.writes).toHaveLength(1);
    expect(counters.idleTimeouts).toBe(1);
  });
});

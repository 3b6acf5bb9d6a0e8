import { describe, expect, it } from 'vitest';
import type { BlockingIo, ReadEnd } from './blocking-socket.js';
import { serveBlocking } from './serve-blocking.js';
import { SharedCounters } from './shared-counters.js';
import { LineSession } from './test-line-session.js';

/** In-memory BlockingIo: a script of reads, a log of writes (EmbeddedChannel-style). */
class ScriptedIo implements BlockingIo {
  readonly writes: string[] = [];
  closed = 0;
  readonly #reads: (string | ReadEnd)[];
  constructor(reads: (string | { end: ReadEnd })[]) {
    this.#reads = reads.map((r) => (typeof r === 'string' ? r : r.end));
  }
  read(): Uint8Array | ReadEnd {
    const next = this.#reads.shift();
    if (next === undefined) throw new Error('script exhausted: the loop read past the end');
    return next === 'eof' || next === 'drain' || next === 'abort' ? next : new TextEncoder().encode(next);
  }
  write(bytes: Uint8Array): void {
    this.writes.push(new TextDecoder().decode(bytes));
  }
  close(): void {
    this.closed++;
  }
}

const sleeps: number[] = [];
const sleepSync = (ms: number): void => {
  sleeps.push(ms);
};

describe('serveBlocking', () => {
  it('answers pipelined requests in order, across chunk boundaries, and closes on EOF', () => {
    const io = new ScriptedIo(['a\nb', '\nsleep 5\nc\n', { end: 'eof' }]);
    const counters = new SharedCounters();
    expect(serveBlocking(new LineSession(), io, sleepSync, counters)).toBe('closed');
    expect(io.writes.join('')).toBe('a\nb\n\nc\n'); // sleep answers with an empty body
    expect(io.closed).toBe(1);
    expect(counters.requests).toBe(4);
    expect(sleeps).toContain(5);
  });

  it('closes when the session asks to, without reading further', () => {
    const io = new ScriptedIo(['x\nclose\ny\n']);
    expect(serveBlocking(new LineSession(), io, sleepSync)).toBe('closed');
    expect(io.writes.join('')).toBe('x\nclose\n');
  });

  it('stops at a request boundary when the server drains', () => {
    const io = new ScriptedIo(['x\n', { end: 'drain' }]);
    expect(serveBlocking(new LineSession(), io, sleepSync)).toBe('drain');
    expect(io.writes).toEqual(['x\n']);
    expect(io.closed).toBe(1);
  });

  it('gives up without writing when the connection is aborted', () => {
    const io = new ScriptedIo(['x', { end: 'abort' }]);
    expect(serveBlocking(new LineSession(), io, sleepSync)).toBe('abort');
    expect(io.writes).toEqual([]);
    expect(io.closed).toBe(0);
  });
});

// The 64-bit counters kept as two Uint32 words: the add that carries past 2^32 moves the high word, and
// counts written by another thread (a second wrapper on the same buffer) are read back exactly.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedCounters } from './shared-counters.js';

describe('shared counters', () => {
  it('carry into the high word at 2^32, for adds of one and of many', () => {
    const counters = new SharedCounters();
    const words = new Uint32Array(counters.buffer);
    words[0] = 2 ** 32 - 2; // requests, low word
    counters.addRequests();
    expect(counters.requests).toBe(2 ** 32 - 1);
    counters.addRequests();
    expect(counters.requests).toBe(2 ** 32);
    counters.addRequests(5);
    expect(counters.requests).toBe(2 ** 32 + 5);
    words[2] = 2 ** 32 - 3; // errors, low word
    counters.addErrors(10);
    expect(counters.errors).toBe(2 ** 32 + 7);
    expect(counters.requests).toBe(2 ** 32 + 5);
  });

  it('adds from another thread are all counted', async () => {
    const counters = new SharedCounters();
    const worker = new Worker(
      `const { workerData: buffer, parentPort } = require('node:worker_threads');
       const words = new Uint32Array(buffer);
       for (let i = 0; i < 100000; i++) Atomics.add(words, 0, 1);
       parentPort.postMessage('done');`,
      { eval: true, workerData: counters.buffer },
    );
    for (let i = 0; i < 100_000; i++) counters.addRequests();
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(counters.requests).toBe(200_000);
  });

  it('requests added once a turn: exact at once on the adding object, in the shared words after the turn', async () => {
    const counters = new SharedCounters();
    const elsewhere = new SharedCounters(counters.buffer); // what another thread's wrapper reads
    const words = new Uint32Array(counters.buffer);
    words[0] = 2 ** 32 - 3; // the flush carries into the high word like any add
    for (let i = 0; i < 4; i++) counters.addRequestsThisTurn(1);
    counters.addRequests(); // an immediate add in the same turn is not lost or counted twice
    expect(counters.requests).toBe(2 ** 32 + 2);
    expect(elsewhere.requests).toBe(2 ** 32 - 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(elsewhere.requests).toBe(2 ** 32 + 2);
    expect(counters.requests).toBe(2 ** 32 + 2);
    counters.addRequestsThisTurn(3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(elsewhere.requests).toBe(2 ** 32 + 5);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { atTurnEnd, forgetTurnTime, turnNow } from './turn-clock.js';

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: time passes inside one loop turn, as in an inline /cpu handler
  }
}

describe('turnNow: one clock read per event-loop turn', () => {
  it('gives every read in one turn the same time, and a fresh one in the next turn', async () => {
    const first = turnNow();
    busyFor(5);
    expect(turnNow()).toBe(first);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(turnNow()).toBeGreaterThanOrEqual(first + 5);
  });

  it('never keeps a time across a wait in epoll (a timer 40 ms later reads the time again)', async () => {
    const before = turnNow();
    await sleep(40);
    const after = turnNow();
    expect(after - before).toBeGreaterThanOrEqual(35);
    expect(after).toBeLessThanOrEqual(performance.now());
  });

  it('runs atTurnEnd tasks once, in order, after the reads of this turn; one added meanwhile waits a turn', async () => {
    const ran: string[] = [];
    atTurnEnd(() => {
      ran.push('a');
      atTurnEnd(() => ran.push('c'));
    });
    atTurnEnd(() => ran.push('b'));
    expect(ran).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['a', 'b']);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('reads the clock again after forgetTurnTime (a handler ran for a while in this turn)', () => {
    const first = turnNow();
    busyFor(20);
    forgetTurnTime();
    const second = turnNow();
    expect(second - first).toBeGreaterThanOrEqual(20);
    expect(turnNow()).toBe(second);
  });
});

/**
 * A monotonic clock read at most once per event-loop turn, for the read deadlines of evented connections.
 *
 * Why: every request answered on the loop restarts its connection's idle clock, and reading the clock
 * (`performance.now()`, a vDSO call plus Node's brand check) cost ~70 ns a request here, about as much as
 * parsing the request. nginx does the same (`ngx_time_update()` once per `epoll_wait` return) and so does
 * libuv (`uv_now()`, cached per loop iteration, which Node does not expose).
 *
 * How it stays correct: the first read in a turn takes the real time and schedules one `setImmediate`,
 * which forgets it in that turn's check phase, after the poll phase that delivered the reads. A pending
 * immediate keeps that poll phase from blocking, so a cached time never survives an `epoll_wait`. Work
 * that may take long inside one turn (a handler run inline: `/cpu`, a blocking `sleep` on an owned bio
 * thread) calls `forgetTurnTime()` after it, so the connections served after it read the time again.
 * Only code on a thread with a running event loop may use it: a thread blocked in a read never reaches
 * the check phase (the blocking models keep `performance.now()`).
 */

/** The time read in this turn; -1 when none is (`performance.now()` is never negative). */
let cached = -1;
let turnEndScheduled = false;
/** Run once at the end of this turn (`atTurnEnd`), in the order they were added. */
let turnEndTasks: (() => void)[] = [];

function endTurn(): void {
  cached = -1;
  turnEndScheduled = false;
  const tasks = turnEndTasks;
  if (tasks.length === 0) return;
  // A task that adds another (it would need a new turn's work) gets it run at the next turn's end.
  turnEndTasks = [];
  for (const task of tasks) task();
}

function scheduleTurnEnd(): void {
  if (turnEndScheduled) return;
  turnEndScheduled = true;
  setImmediate(endTurn);
}

/**
 * `performance.now()` as read first in this loop turn (or after the last `forgetTurnTime()`), in whole
 * milliseconds: timers have no finer grain, and a small integer is stored in an object's field as it is,
 * where a fraction would be a separate heap box, one more cache line for each connection that keeps it.
 */
export function turnNow(): number {
  if (cached >= 0) return cached;
  cached = Math.floor(performance.now());
  scheduleTurnEnd();
  return cached;
}

/**
 * Runs `task` once in this turn's check phase, with the clock's own: for work that costs less done once a
 * turn than once per read (see `SharedCounters#addRequestsThisTurn`). The task must not throw. Same rule
 * as `turnNow`: only on a thread whose event loop runs.
 */
export function atTurnEnd(task: () => void): void {
  turnEndTasks.push(task);
  scheduleTurnEnd();
}

/** Time passed within this turn (a handler ran): the next `turnNow()` reads the clock again. */
export function forgetTurnTime(): void {
  cached = -1;
}

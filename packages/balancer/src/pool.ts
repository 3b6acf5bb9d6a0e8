/**
 * A pool: its backends, the policy that picks among them, the maxconn wait queue and the health monitor.
 *
 * Who may be offered to the policy, in order:
 *   1. usable = healthy ∧ enabled (not draining/disabled/removed) ∧ weight > 0
 *   2. primaries if any primary is usable, else backups (HAProxy: backups only when all primaries are down)
 *   3. minus backends already tried by this connection (redispatch) and those at maxconn
 * If step 3 leaves nothing only because of maxconn, the connection waits in the queue.
 */

import { applyCheckResult, Backend } from './backend.js';
import type { BackendStateEvent } from './balancer-api.js';
import type { ResolvedBackend, ResolvedPool } from './config.js';
import { runHealthCheck } from './health-check.js';
import { instantiatePolicy } from './policies/by-name.js';
import type { PickContext, Policy } from './policy.js';

export type PickResult =
  | { kind: 'backend'; backend: Backend }
  /** Usable backends exist but are all at maxconn: wait. */
  | { kind: 'saturated' }
  /** Nothing usable (or all tried, or the policy refused). */
  | { kind: 'none'; detail: string };

/** A connection waiting for a maxconn slot. `retry` returns false to stay queued. */
export interface QueueWaiter {
  retry(): boolean;
}

export interface PoolHooks {
  backendState(e: BackendStateEvent): void;
  healthCheck(pool: string, backend: string, ok: boolean, durationMs: number, detail?: string): void;
}

export class Pool {
  config: ResolvedPool;
  policy: Policy;
  /** Insertion-ordered; policies see backends in config order. */
  readonly backends = new Map<string, Backend>();
  readonly queue: QueueWaiter[] = [];
  #hooks: PoolHooks;
  #timers = new Map<Backend, NodeJS.Timeout>();
  #checking = new Set<Backend>();
  #running = false;
  /** Reused candidate array: picks happen per connection, allocation there adds up. */
  #candidates: Backend[] = [];

  constructor(config: ResolvedPool, hooks: PoolHooks) {
    this.config = config;
    this.policy = instantiatePolicy(config.policy);
    this.#hooks = hooks;
    for (const b of config.backends) this.backends.set(b.id, new Backend(b, config.name));
  }

  get name(): string {
    return this.config.name;
  }

  get policyName(): string {
    const p = this.config.policy;
    return typeof p === 'function' ? p.name || 'custom' : p;
  }

  pick(ctx: PickContext, tried: ReadonlySet<Backend> | undefined): PickResult {
    let anyPrimary = false;
    for (const b of this.backends.values()) {
      if (!b.backup && b.usable) {
        anyPrimary = true;
        break;
      }
    }
    const cands = this.#candidates;
    cands.length = 0;
    let saturated = false;
    let usable = 0;
    for (const b of this.backends.values()) {
      if (b.backup === anyPrimary || !b.usable) continue;
      usable++;
      if (tried?.has(b)) continue;
      if (b.full) {
        saturated = true;
        continue;
      }
      cands.push(b);
    }
    if (cands.length === 0) {
      if (saturated) return { kind: 'saturated' };
      return {
        kind: 'none',
        detail: usable === 0 ? 'no backend is up and enabled' : 'every usable backend failed',
      };
    }
    const chosen = this.policy(ctx, cands);
    cands.length = 0;
    if (chosen === undefined) return { kind: 'none', detail: 'the policy picked none' };
    // A user policy might return something it made up; only our own objects carry counters.
    const b = chosen instanceof Backend ? chosen : this.backends.get(chosen.id);
    if (b === undefined || !b.usable)
      return { kind: 'none', detail: `the policy returned unusable ${chosen.id}` };
    return { kind: 'backend', backend: b };
  }

  /** Hand freed capacity to queued connections, oldest first. */
  dispatchQueue(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (!head.retry()) return;
      // retry() removes the waiter itself when it proceeds; guard against a waiter that did not.
      if (this.queue[0] === head) this.queue.shift();
    }
  }

  /** A connection to `b` ended or failed: release its slot. */
  release(b: Backend): void {
    b.active -= 1;
    if (b.removed && b.active === 0 && this.backends.get(b.id) === b) this.backends.delete(b.id);
    if (this.queue.length > 0) this.dispatchQueue();
  }

  /** Run `change`, and report the transition if the effective state moved. `detail` is read afterwards. */
  setState(b: Backend, change: () => void, cause: BackendStateEvent['cause'], detail?: () => string): void {
    const from = b.state;
    change();
    const to = b.state;
    if (from !== to) {
      const e: BackendStateEvent = { pool: this.name, backend: b.id, from, to, cause };
      if (detail !== undefined) e.detail = detail();
      this.#hooks.backendState(e);
    }
    if (b.usable && this.queue.length > 0) this.dispatchQueue();
  }

  /**
   * Passive health (HAProxy `observe layer4` + `error-limit` + `on-error mark-down`, Envoy's consecutive
   * gateway failures): a real connection could not connect. `connectFailureLimit` in a row marks the backend
   * down at once, without waiting for active checks to fail `fall` times.
   */
  connectFailed(b: Backend, detail: string): void {
    b.failures += 1;
    b.consecutiveFailures += 1;
    const limit = this.config.health.connectFailureLimit;
    this.#passiveDown(b, limit > 0 && b.consecutiveFailures >= limit, () => {
      return `${b.consecutiveFailures} consecutive connect failures, last: ${detail}`;
    });
  }

  connectSucceeded(b: Backend): void {
    b.consecutiveFailures = 0;
  }

  /** Passive health: connected, but the backend sent no byte within `timeouts.firstByte`. */
  firstByteTimedOut(b: Backend, timeoutMs: number): void {
    b.firstByteTimeouts += 1;
    b.consecutiveFirstByteTimeouts += 1;
    const limit = this.config.health.firstByteTimeoutLimit;
    this.#passiveDown(
      b,
      limit > 0 && b.consecutiveFirstByteTimeouts >= limit,
      () => `${b.consecutiveFirstByteTimeouts} consecutive first-byte timeouts (${timeoutMs} ms)`,
    );
  }

  /** The backend answered a real connection: the first-byte streak is broken. */
  firstByteReceived(b: Backend): void {
    b.consecutiveFirstByteTimeouts = 0;
  }

  #passiveDown(b: Backend, over: boolean, detail: () => string): void {
    // Only with active checks on: without them nothing would ever bring the backend back.
    if (!over || !this.config.health.enabled || !b.healthy) return;
    this.setState(
      b,
      () => {
        b.healthy = false;
        // Coming back takes `rise` good checks from here, as after an active mark-down.
        b.okStreak = 0;
      },
      'passive',
      detail,
    );
  }

  addBackend(config: ResolvedBackend): Backend {
    const b = new Backend(config, this.name);
    this.backends.set(config.id, b);
    this.#hooks.backendState({ pool: this.name, backend: b.id, from: 'down', to: b.state, cause: 'added' });
    if (this.#running) this.#schedule(b, true);
    if (this.queue.length > 0) this.dispatchQueue();
    return b;
  }

  removeBackend(b: Backend): void {
    const from = b.state;
    b.removed = true;
    this.#stopChecks(b);
    this.#hooks.backendState({ pool: this.name, backend: b.id, from, to: 'draining', cause: 'removed' });
    if (b.active === 0) this.backends.delete(b.id);
  }

  /** Apply a reloaded pool config: keep Backend objects (counters, health, live connections) by id. */
  reconfigure(next: ResolvedPool): void {
    const prev = this.config;
    const healthChanged =
      JSON.stringify({ ...prev.health, expect: String(prev.health.expect) }) !==
      JSON.stringify({ ...next.health, expect: String(next.health.expect) });
    if (prev.policy !== next.policy) this.policy = instantiatePolicy(next.policy);
    this.config = next;
    const keep = new Set<string>();
    for (const bc of next.backends) {
      keep.add(bc.id);
      const b = this.backends.get(bc.id);
      if (b === undefined) this.addBackend(bc);
      else {
        b.config = bc;
        if (b.removed) {
          b.removed = false;
          if (this.#running) this.#schedule(b, true);
        }
      }
    }
    for (const b of [...this.backends.values()]) if (!keep.has(b.id) && !b.removed) this.removeBackend(b);
    if (healthChanged && this.#running) {
      this.stopChecks();
      this.startChecks();
    }
    if (this.queue.length > 0) this.dispatchQueue();
  }

  startChecks(): void {
    this.#running = true;
    for (const b of this.backends.values()) this.#schedule(b, true);
  }

  stopChecks(): void {
    this.#running = false;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  /** (Re)start checks of one backend, e.g. after `enable`. */
  restartChecks(b: Backend): void {
    this.#stopChecks(b);
    if (this.#running) this.#schedule(b, true);
  }

  #stopChecks(b: Backend): void {
    const t = this.#timers.get(b);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(b);
  }

  #schedule(b: Backend, first: boolean): void {
    const h = this.config.health;
    if (!this.#running || !h.enabled || b.removed || b.adminState === 'disabled') return;
    if (this.#timers.has(b) || this.#checking.has(b)) return;
    // Spread first checks over one interval (HAProxy `spread-checks`) so N backends are not probed at once.
    const delay = first ? Math.floor(Math.random() * h.interval) : h.interval;
    const t = setTimeout(() => {
      this.#timers.delete(b);
      this.#check(b);
    }, delay);
    t.unref();
    this.#timers.set(b, t);
  }

  #check(b: Backend): void {
    const h = this.config.health;
    this.#checking.add(b);
    void runHealthCheck(b.host, b.port, h).then((r) => {
      this.#checking.delete(b);
      if (!this.#running || b.removed || b.adminState === 'disabled') return;
      b.lastCheck =
        r.detail === undefined
          ? { ok: r.ok, at: Date.now() }
          : { ok: r.ok, at: Date.now(), detail: r.detail };
      this.#hooks.healthCheck(this.name, b.id, r.ok, r.durationMs, r.detail);
      const h2 = this.config.health;
      this.setState(
        b,
        () => applyCheckResult(b, r.ok, h2.rise, h2.fall),
        'check',
        () => (r.ok ? `${b.okStreak} good checks` : `${b.failStreak} failed checks, last: ${r.detail}`),
      );
      this.#schedule(b, false);
    });
  }
}

/**
 * `createBalancer(config)`: wires listeners, pools and sessions together and owns the lifecycle
 * (start, update/reload, close with a deadline) and the admin operations.
 */

import { EventEmitter } from 'node:events';
import type { Backend } from './backend.js';
import type { BackendStats, Balancer, BalancerEvents, BalancerStats, StartResult } from './balancer-api.js';
import {
  type BackendConfig,
  type BalancerConfig,
  DEFAULT_CLOSE_DEADLINE,
  type ResolvedConfig,
  type ResolvedListener,
} from './config.js';
import { checkWeight, formatHostPort, resolveBackend, resolveConfig } from './config-resolve.js';
import {
  BalancerStateError,
  DuplicateBackendError,
  ListenFailedError,
  UnknownBackendError,
  UnknownPoolError,
} from './errors.js';
import { Listener } from './listener.js';
import { Pool } from './pool.js';
import type { ProxySession } from './proxy-session.js';

class BalancerImpl extends EventEmitter implements Balancer {
  #config: ResolvedConfig;
  #pools = new Map<string, Pool>();
  #listeners = new Map<string, Listener>();
  #sessions = new Set<ProxySession>();
  #state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;
  /** Pools of a config being applied by `update()`, visible to its freshly bound listeners only. */
  #staged: Map<string, Pool> | undefined;

  constructor(config: BalancerConfig) {
    super();
    this.#config = resolveConfig(config);
    for (const p of this.#config.pools) this.#pools.set(p.name, this.#newPool(p));
  }

  #emit = <K extends keyof BalancerEvents>(event: K, payload: BalancerEvents[K]): void => {
    // A throwing subscriber (a log sink, a metric) must not take a connection, or the process, down with it.
    try {
      this.emit(event, payload);
    } catch (err) {
      process.emitWarning(`a '${event}' listener threw: ${err instanceof Error ? err.stack : String(err)}`, {
        code: 'IOLAB_BALANCER_LISTENER_THREW',
      });
    }
  };

  #newPool(p: ResolvedConfig['pools'][number]): Pool {
    return new Pool(p, {
      backendState: (e) => this.#emit('backend-state', e),
      healthCheck: (pool, backend, ok, durationMs, detail) =>
        this.#emit(
          'health-check',
          detail === undefined
            ? { pool, backend, ok, durationMs }
            : { pool, backend, ok, durationMs, detail },
        ),
    });
  }

  #newListener(l: ResolvedListener): Listener {
    return new Listener(l, {
      pool: (name) => (this.#pools.get(name) ?? this.#staged?.get(name))!,
      maxHeldBytes: () => this.#config.maxHeldBytes,
      emit: this.#emit,
      sessions: this.#sessions,
    });
  }

  #addresses(): StartResult {
    return {
      addresses: [...this.#listeners.values()].map((l) => ({
        listener: l.config.name,
        host: l.address?.host ?? l.config.host,
        port: l.address?.port ?? l.config.port,
        mode: l.config.mode,
      })),
    };
  }

  async start(): Promise<StartResult> {
    if (this.#state !== 'new')
      throw new BalancerStateError('IOLAB_BALANCER_CLOSED', `start() called twice (${this.#state})`);
    this.#state = 'starting';
    try {
      for (const l of this.#config.listeners) {
        const listener = this.#newListener(l);
        this.#listeners.set(l.name, listener);
        await this.#bind(listener);
      }
    } catch (err) {
      for (const l of this.#listeners.values()) l.close();
      this.#listeners.clear();
      this.#state = 'closed';
      throw err;
    }
    for (const p of this.#pools.values()) p.startChecks();
    this.#state = 'running';
    return this.#addresses();
  }

  close(deadlineMs = DEFAULT_CLOSE_DEADLINE): Promise<void> {
    this.#closing ??= this.#close(deadlineMs);
    return this.#closing;
  }

  async #close(deadlineMs: number): Promise<void> {
    this.#state = 'closing';
    for (const p of this.#pools.values()) p.stopChecks();
    for (const l of this.#listeners.values()) l.close();
    // Queued connections have no backend to wait for any more.
    for (const s of [...this.#sessions]) if (s.phase !== 'forwarding') s.shutdown();
    const deadline = Date.now() + deadlineMs;
    while (this.#sessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    for (const s of [...this.#sessions]) s.shutdown();
    // Wait (bounded) for the 'close' events so every connection-end is emitted before close() resolves.
    for (let i = 0; i < 100 && this.#sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    this.#state = 'closed';
  }

  stats(): BalancerStats {
    return {
      listeners: [...this.#listeners.values()].map((l) => l.stats()),
      pools: [...this.#pools.values()].map((p) => ({
        name: p.name,
        policy: p.policyName,
        queued: p.queue.length,
        backends: [...p.backends.values()].map((b) => b.stats()),
      })),
    };
  }

  /**
   * Transactional, like HAProxy's and nginx's reloads: everything that can fail (validation, building new
   * pools, binding every new or moved listener) happens first, while the old config keeps serving; only
   * then are old listeners closed and pools reconfigured. A failure closes what was bound for the new
   * config and rethrows, leaving the running config exactly as it was.
   *
   * Listeners are matched by name at the same address, then by address alone (a rename, or two listeners
   * swapping names, keeps the bound socket instead of failing with EADDRINUSE against ourselves).
   */
  async update(config: BalancerConfig): Promise<StartResult> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new BalancerStateError('IOLAB_BALANCER_CLOSED', 'update() after close()');
    }
    const next = resolveConfig(config); // throws before anything changes
    const running = this.#state === 'running';
    // 1. New pools, built but not yet visible (a new listener bound below may already accept: it finds
    //    its pool through #staged).
    const staged = new Map<string, Pool>();
    for (const p of next.pools) if (!this.#pools.has(p.name)) staged.set(p.name, this.#newPool(p));
    // 2. Listeners: keep the ones whose address is unchanged, bind the rest, all before closing anything.
    const kept = new Map<string, Listener>(); // new name → existing listener
    const bound = new Map<string, Listener>(); // new name → newly bound listener
    if (running) {
      const claimed = new Set<Listener>();
      // Port 0 asks for "any port": one bound from port 0 stays; a listener bound from port 0 also matches a
      // config that now names the port it got (pinning it across restarts).
      const sameAddress = (l: Listener, lc: ResolvedListener): boolean =>
        l.config.host === lc.host &&
        (l.config.port === lc.port || (lc.port === 0 && l.config.port === 0) || l.address?.port === lc.port);
      for (const lc of next.listeners) {
        const byName = this.#listeners.get(lc.name);
        if (byName !== undefined && sameAddress(byName, lc)) {
          kept.set(lc.name, byName);
          claimed.add(byName);
        }
      }
      for (const lc of next.listeners) {
        if (kept.has(lc.name) || lc.port === 0) continue;
        for (const l of this.#listeners.values()) {
          if (!claimed.has(l) && sameAddress(l, lc)) {
            kept.set(lc.name, l);
            claimed.add(l);
            break;
          }
        }
      }
      this.#staged = staged;
      try {
        for (const lc of next.listeners) {
          if (kept.has(lc.name)) continue;
          const listener = this.#newListener(lc);
          bound.set(lc.name, listener);
          await this.#bind(listener);
        }
      } catch (err) {
        for (const l of bound.values()) l.close();
        throw err;
      } finally {
        this.#staged = undefined;
      }
    }
    // 3. Commit: nothing below can fail.
    for (const p of next.pools) {
      const existing = this.#pools.get(p.name);
      if (existing !== undefined) existing.reconfigure(p);
      else {
        const pool = staged.get(p.name)!;
        this.#pools.set(p.name, pool);
        if (running) pool.startChecks();
      }
    }
    this.#config = next;
    if (running) {
      const survivors = new Set(kept.values());
      const old = [...this.#listeners.values()];
      this.#listeners.clear();
      for (const lc of next.listeners) {
        const k = kept.get(lc.name);
        if (k !== undefined) k.config = lc; // new pool/timeouts apply to new connections
        this.#listeners.set(lc.name, k ?? bound.get(lc.name)!);
      }
      // Established connections are not touched: closing a listener only stops accepting.
      for (const l of old) if (!survivors.has(l)) l.close();
    }
    const keepPools = new Set(next.pools.map((p) => p.name));
    for (const [name, p] of [...this.#pools]) {
      if (!keepPools.has(name)) {
        // Live sessions keep their own reference to the pool and finish there.
        p.stopChecks();
        this.#pools.delete(name);
      }
    }
    return this.#addresses();
  }

  /** Binds, reporting which listener and address failed (the reload error an operator reads). */
  async #bind(listener: Listener): Promise<void> {
    try {
      await listener.listen();
    } catch (err) {
      throw new ListenFailedError(
        listener.config.name,
        formatHostPort(listener.config.host, listener.config.port),
        err,
      );
    }
  }

  #pool(name: string): Pool {
    const p = this.#pools.get(name);
    if (p === undefined) throw new UnknownPoolError(name);
    return p;
  }

  #backend(pool: string, id: string): [Pool, Backend] {
    const p = this.#pool(pool);
    const b = p.backends.get(id);
    if (b === undefined || b.removed) throw new UnknownBackendError(pool, id);
    return [p, b];
  }

  drain(pool: string, backendId: string): void {
    const [p, b] = this.#backend(pool, backendId);
    p.setState(b, () => (b.adminState = 'draining'), 'admin');
  }

  enable(pool: string, backendId: string): void {
    const [p, b] = this.#backend(pool, backendId);
    const wasDisabled = b.adminState === 'disabled';
    p.setState(b, () => (b.adminState = 'enabled'), 'admin');
    if (wasDisabled) p.restartChecks(b);
  }

  disable(pool: string, backendId: string): void {
    const [p, b] = this.#backend(pool, backendId);
    p.setState(b, () => (b.adminState = 'disabled'), 'admin');
    p.restartChecks(b); // stops them: disabled backends are not checked
  }

  addBackend(pool: string, backend: BackendConfig): BackendStats {
    const p = this.#pool(pool);
    const resolved = resolveBackend(backend, '');
    const existing = p.backends.get(resolved.id);
    if (existing !== undefined && !existing.removed) throw new DuplicateBackendError(pool, resolved.id);
    if (existing !== undefined) {
      // Re-adding one that is still draining out: revive it rather than keep two objects for one id.
      existing.config = resolved;
      existing.removed = false;
      p.restartChecks(existing);
      p.config = {
        ...p.config,
        backends: [...p.config.backends.filter((b) => b.id !== resolved.id), resolved],
      };
      return existing.stats();
    }
    p.config = { ...p.config, backends: [...p.config.backends, resolved] };
    return p.addBackend(resolved).stats();
  }

  removeBackend(pool: string, backendId: string): void {
    const [p, b] = this.#backend(pool, backendId);
    p.config = { ...p.config, backends: p.config.backends.filter((x) => x.id !== backendId) };
    p.removeBackend(b);
  }

  setWeight(pool: string, backendId: string, weight: number): void {
    const [p, b] = this.#backend(pool, backendId);
    checkWeight(weight, '/weight');
    b.config = { ...b.config, weight };
    p.config = { ...p.config, backends: p.config.backends.map((x) => (x.id === backendId ? b.config : x)) };
    if (p.queue.length > 0) p.dispatchQueue();
  }
}

/**
 * Create a balancer from `config` (validated at once: throws `BalancerConfigError` naming the field).
 * Nothing listens until `start()`.
 *
 * ```ts
 * const lb = createBalancer({
 *   listeners: [{ port: 8080, pool: 'web' }],
 *   pools: [{ name: 'web', policy: 'least-conn', backends: [{ host: '10.0.0.1', port: 80 }, { host: '10.0.0.2', port: 80 }] }],
 * });
 * lb.on('connection-end', (e) => console.log(e.backend, e.bytesOut, e.closedBy));
 * const { addresses } = await lb.start();
 * ```
 */
export function createBalancer(config: BalancerConfig): Balancer {
  return new BalancerImpl(config);
}

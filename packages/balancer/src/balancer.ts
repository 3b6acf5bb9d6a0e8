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
  resolveBackend,
  resolveConfig,
} from './config.js';
import {
  BalancerConfigError,
  BalancerStateError,
  DuplicateBackendError,
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
      pool: (name) => this.#pools.get(name)!,
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
        await listener.listen();
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

  async update(config: BalancerConfig): Promise<StartResult> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new BalancerStateError('IOLAB_BALANCER_CLOSED', 'update() after close()');
    }
    const next = resolveConfig(config); // throws before anything changes
    const running = this.#state === 'running';
    // Pools first, so listeners never point at a pool that does not exist.
    const keepPools = new Set(next.pools.map((p) => p.name));
    for (const p of next.pools) {
      const existing = this.#pools.get(p.name);
      if (existing !== undefined) existing.reconfigure(p);
      else {
        const pool = this.#newPool(p);
        this.#pools.set(p.name, pool);
        if (running) pool.startChecks();
      }
    }
    this.#config = next;
    if (running) {
      const keepListeners = new Set(next.listeners.map((l) => l.name));
      for (const [name, l] of [...this.#listeners]) {
        if (!keepListeners.has(name)) {
          this.#listeners.delete(name);
          l.close();
        }
      }
      for (const lc of next.listeners) {
        const existing = this.#listeners.get(lc.name);
        const sameAddress =
          existing !== undefined &&
          existing.config.host === lc.host &&
          (existing.config.port === lc.port || (lc.port === 0 && existing.config.port === 0));
        if (existing !== undefined && sameAddress) {
          existing.config = lc; // new pool/mode/timeouts apply to new connections
          continue;
        }
        if (existing !== undefined) existing.close();
        const listener = this.#newListener(lc);
        this.#listeners.set(lc.name, listener);
        await listener.listen();
      }
    }
    for (const [name, p] of [...this.#pools]) {
      if (!keepPools.has(name)) {
        // Live sessions keep their own reference to the pool and finish there.
        p.stopChecks();
        this.#pools.delete(name);
      }
    }
    return this.#addresses();
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
    if (!Number.isInteger(weight) || weight < 0)
      throw new BalancerConfigError('weight', `must be an integer >= 0, got ${weight}`);
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

/**
 * One backend's live state: health, operator state, counters. Implements the {@link BackendView} that
 * policies read, so offering a backend to a policy allocates nothing.
 */

import type { BackendAdminState, BackendState, BackendStats } from './balancer-api.js';
import type { ResolvedBackend } from './config.js';
import type { BackendView } from './policy.js';

export class Backend implements BackendView {
  config: ResolvedBackend;
  readonly pool: string;
  /** Health verdict; starts up (HAProxy's default) so traffic flows before the first check completes. */
  healthy = true;
  adminState: BackendAdminState = 'enabled';
  /** Set by `removeBackend`/reload: behaves as draining, forgotten when `active` reaches 0. */
  removed = false;
  active = 0;
  total = 0;
  failures = 0;
  consecutiveFailures = 0;
  /** Connections whose backend sent no first byte within `timeouts.firstByte`. */
  firstByteTimeouts = 0;
  consecutiveFirstByteTimeouts = 0;
  bytesIn = 0;
  bytesOut = 0;
  directed = 0;
  /** Consecutive good / bad active checks, for rise and fall. */
  okStreak = 0;
  failStreak = 0;
  lastCheck: { ok: boolean; at: number; detail?: string } | undefined;

  constructor(config: ResolvedBackend, pool: string) {
    this.config = config;
    this.pool = pool;
  }

  get id(): string {
    return this.config.id;
  }
  get host(): string {
    return this.config.host;
  }
  get port(): number {
    return this.config.port;
  }
  get weight(): number {
    return this.config.weight;
  }
  get backup(): boolean {
    return this.config.backup;
  }

  /** May a new connection be sent here (ignoring maxconn)? */
  get usable(): boolean {
    return this.healthy && this.adminState === 'enabled' && !this.removed && this.config.weight > 0;
  }

  get full(): boolean {
    return this.config.maxconn > 0 && this.active >= this.config.maxconn;
  }

  get state(): BackendState {
    if (this.adminState === 'disabled') return 'disabled';
    if (this.adminState === 'draining' || this.removed) return 'draining';
    return this.healthy ? 'up' : 'down';
  }

  stats(): BackendStats {
    const c = this.config;
    return {
      pool: this.pool,
      id: c.id,
      host: c.host,
      port: c.port,
      weight: c.weight,
      backup: c.backup,
      maxconn: c.maxconn,
      proxyProtocol: c.proxyProtocol,
      state: this.state,
      adminState: this.adminState,
      healthy: this.healthy,
      active: this.active,
      total: this.total,
      failures: this.failures,
      consecutiveFailures: this.consecutiveFailures,
      firstByteTimeouts: this.firstByteTimeouts,
      consecutiveFirstByteTimeouts: this.consecutiveFirstByteTimeouts,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      directed: this.directed,
      lastCheck: this.lastCheck,
    };
  }
}

/**
 * Rise/fall bookkeeping for one check result, without I/O. Returns the new health verdict when it flips,
 * else `undefined`.
 */
export function applyCheckResult(b: Backend, ok: boolean, rise: number, fall: number): boolean | undefined {
  if (ok) {
    b.okStreak += 1;
    b.failStreak = 0;
    if (!b.healthy && b.okStreak >= rise) {
      b.healthy = true;
      b.consecutiveFailures = 0;
      b.consecutiveFirstByteTimeouts = 0;
      return true;
    }
  } else {
    b.failStreak += 1;
    b.okStreak = 0;
    if (b.healthy && b.failStreak >= fall) {
      b.healthy = false;
      return false;
    }
  }
  return undefined;
}

/**
 * The public shape of a running balancer: lifecycle, stats, admin operations and the events the
 * operations layer (logs, metrics, admin API) subscribes to.
 */

import type { BackendConfig, BalancerConfig, ListenerMode, ResolvedBackend } from './config.js';
import type { BalancerErrorCode } from './errors.js';

/** Where a backend stands. `up`/`down` come from health checks; `draining`/`disabled` from an operator. */
export type BackendState = 'up' | 'down' | 'draining' | 'disabled';

/** Operator-set state, independent of health: `draining` = no new connections, existing finish;
 * `disabled` = maintenance: no new connections and no health checks; existing finish. */
export type BackendAdminState = 'enabled' | 'draining' | 'disabled';

/** A backend's resolved settings (id, address, weight, backup, maxconn, proxyProtocol), state and counters. */
export interface BackendStats extends ResolvedBackend {
  pool: string;
  /** Effective state: `disabled`/`draining` when an operator said so, else health's `up`/`down`. */
  state: BackendState;
  adminState: BackendAdminState;
  healthy: boolean;
  /** Connections open or connecting now. */
  active: number;
  /** Connections sent to this backend (successful connects). */
  total: number;
  /** Failed connects (refused, timed out, reset while connecting). */
  failures: number;
  /** Consecutive failed connects of real traffic (passive health). */
  consecutiveFailures: number;
  /** Connections the backend accepted but sent no first byte to within `timeouts.firstByte`. */
  firstByteTimeouts: number;
  /** The same, consecutive (passive health; reset by a first byte or by coming back up). */
  consecutiveFirstByteTimeouts: number;
  /** Bytes client → backend. */
  bytesIn: number;
  /** Bytes backend → client. */
  bytesOut: number;
  /** Director-mode answers naming this backend. */
  directed: number;
  /** Last active check: ok, or the error code/message; undefined before the first. */
  lastCheck: { ok: boolean; at: number; detail?: string } | undefined;
}

export interface PoolStats {
  name: string;
  policy: string;
  /** Connections waiting for a maxconn slot. */
  queued: number;
  backends: BackendStats[];
}

export interface ListenerStats {
  name: string;
  mode: ListenerMode;
  pool: string;
  address: { host: string; port: number } | undefined;
  /** Client connections open now. */
  active: number;
  /** Client connections accepted. */
  total: number;
  /** Accept errors (EMFILE/ENFILE …) seen. */
  acceptErrors: number;
}

export interface BalancerStats {
  listeners: ListenerStats[];
  pools: PoolStats[];
}

/** Who closed first. */
export type ClosedBy = 'client' | 'backend' | 'balancer';

export interface ConnectionEndEvent {
  listener: string;
  pool: string;
  clientAddress: string;
  clientPort: number;
  /** Backend id; undefined when none was reached. */
  backend: string | undefined;
  /** Bytes client → backend (PROXY header excluded). */
  bytesIn: number;
  /** Bytes backend → client. */
  bytesOut: number;
  durationMs: number;
  closedBy: ClosedBy;
  /** `end` (FIN), `reset`/`error` (socket error code in `error`), or a balancer error code. */
  reason: 'end' | 'reset' | 'error' | 'shutdown' | BalancerErrorCode;
  /** Socket error code or message when there was one (e.g. `ECONNRESET`). */
  error?: string;
  /** Connect attempts made (1 = first backend worked). */
  attempts: number;
}

export interface BackendStateEvent {
  pool: string;
  backend: string;
  from: BackendState;
  to: BackendState;
  /**
   * `check` (active), `passive` (consecutive connect failures or first-byte timeouts of real traffic),
   * `admin`, `added`, `removed`.
   */
  cause: 'check' | 'passive' | 'admin' | 'added' | 'removed';
  detail?: string;
}

export interface ConnectErrorEvent {
  listener: string;
  pool: string;
  backend: string;
  clientAddress: string;
  attempt: number;
  /** `FIRST_BYTE_TIMEOUT`: connected, but no reply byte within `timeouts.firstByte`. */
  code:
    | 'IOLAB_BALANCER_CONNECT_FAILED'
    | 'IOLAB_BALANCER_CONNECT_TIMEOUT'
    | 'IOLAB_BALANCER_FIRST_BYTE_TIMEOUT';
  /** Socket error code, e.g. `ECONNREFUSED`. */
  error: string | undefined;
  /** True when another attempt follows (for a first-byte timeout: the held bytes are replayed). */
  willRetry: boolean;
}

export interface QueueEvent {
  pool: string;
  listener: string;
  clientAddress: string;
  /** `enqueued`, `dequeued` (got a slot), `timeout`, `full` (refused, queue at maxQueue). */
  action: 'enqueued' | 'dequeued' | 'timeout' | 'full';
  /** Queue length after the action. */
  queued: number;
  waitedMs: number;
}

export interface AcceptErrorEvent {
  listener: string;
  /** e.g. `EMFILE`. */
  error: string;
  /** Accepting is shed for this long. */
  pausedMs: number;
}

export interface HealthCheckEvent {
  pool: string;
  backend: string;
  ok: boolean;
  durationMs: number;
  detail?: string;
}

/** Event name → payload. */
export interface BalancerEvents {
  'connection-end': ConnectionEndEvent;
  'backend-state': BackendStateEvent;
  'connect-error': ConnectErrorEvent;
  queue: QueueEvent;
  'accept-error': AcceptErrorEvent;
  'health-check': HealthCheckEvent;
}

export interface StartResult {
  /** One entry per listener, with the port actually bound (useful with port 0). */
  addresses: { listener: string; host: string; port: number; mode: ListenerMode }[];
}

export interface Balancer {
  /** Bind every listener and start health checks. Rejects if a listener cannot bind. */
  start(): Promise<StartResult>;
  /**
   * Stop accepting, stop checks, let established connections finish for up to `deadlineMs`
   * (default {@link DEFAULT_CLOSE_DEADLINE}), then destroy what is left. Idempotent.
   */
  close(deadlineMs?: number): Promise<void>;
  stats(): BalancerStats;
  /**
   * Apply a new config without dropping established connections: listeners are matched by name (kept,
   * re-bound if their address changed, added, closed), pools by name, backends by id (counters and
   * health kept; removed ones drain). Throws `BalancerConfigError` and changes nothing if it is invalid.
   */
  update(config: BalancerConfig): Promise<StartResult>;

  /** No new connections to this backend; existing ones finish. */
  drain(pool: string, backendId: string): void;
  /** Back to normal after `drain`/`disable`. */
  enable(pool: string, backendId: string): void;
  /** Maintenance: no new connections, health checks stop; existing ones finish. */
  disable(pool: string, backendId: string): void;
  /** Add a backend (health state starts `up`, like on start). */
  addBackend(pool: string, backend: BackendConfig): BackendStats;
  /** Remove: drains it and forgets it once its last connection ends. */
  removeBackend(pool: string, backendId: string): void;
  setWeight(pool: string, backendId: string, weight: number): void;

  on<K extends keyof BalancerEvents>(event: K, listener: (e: BalancerEvents[K]) => void): this;
  off<K extends keyof BalancerEvents>(event: K, listener: (e: BalancerEvents[K]) => void): this;
  once<K extends keyof BalancerEvents>(event: K, listener: (e: BalancerEvents[K]) => void): this;
}

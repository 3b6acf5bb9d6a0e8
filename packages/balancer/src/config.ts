/**
 * The typed configuration of a balancer, with one `DEFAULT_*` per option, and the resolved (defaults
 * filled) shapes the data plane runs on.
 *
 * Shape (HAProxy's frontend/backend split, nginx stream's `server`/`upstream`):
 *
 * ```
 *   listeners[] ──pool name──▶ pools[] ──▶ backends[]
 *   (where clients connect)    (policy, health, retries)   (host:port, weight, backup, maxconn, PROXY)
 * ```
 *
 * Only declarations live here, so a reader finds every option and its default on one page; checking a
 * config and filling the defaults in is `config-resolve.ts`.
 */

import type { Duration } from './duration.js';
import type { Policy } from './policy.js';

/** Names of the built-in policies (`src/policies/<name>.ts`). */
export type PolicyName = 'round-robin' | 'weighted' | 'least-conn' | 'source-hash' | 'p2c';

export const POLICY_NAMES: readonly PolicyName[] = [
  'round-robin',
  'weighted',
  'least-conn',
  'source-hash',
  'p2c',
];

/** PROXY protocol version sent to a backend (`undefined` = none). */
export type ProxyProtocolVersion = 'v1' | 'v2';

/** One backend server ("real server" in LVS words). */
export interface BackendConfig {
  /** Stable identity used by admin operations, stats and reload diffs. Default: `host:port`. */
  id?: string;
  host: string;
  port: number;
  /**
   * Relative share for `weighted`, `least-conn` (conns/weight), `p2c` and `source-hash`: an integer
   * 0..{@link MAX_WEIGHT}. 0 = never picked.
   */
  weight?: number;
  /** Serves only while every primary (non-backup) backend of the pool is down. */
  backup?: boolean;
  /** Most concurrent proxied connections; more wait in the pool's queue. 0 = unlimited. */
  maxconn?: number;
  /** Send a PROXY protocol header of this version before the client's bytes. */
  proxyProtocol?: ProxyProtocolVersion;
}

/** Active health checking, per pool. */
export interface HealthConfig {
  /** Run active checks at all. Passive marking also needs them (nothing else could bring a backend back). */
  enabled?: boolean;
  /** Time between two checks of one backend (ms, or a duration such as `"2s"`). */
  interval?: Duration;
  /** Consecutive good checks that bring a down backend back up. */
  rise?: number;
  /** Consecutive bad checks (or connect failures of real traffic) that take a backend down. */
  fall?: number;
  /** One check (connect + send + expect) must finish within this (ms, or a duration such as `"1s"`). */
  timeout?: Duration;
  /**
   * Passive health: this many consecutive failed connects of real traffic mark the backend down at once
   * (HAProxy `observe layer4` + `error-limit` + `on-error mark-down`). 0 = off. Default: `fall`.
   */
  connectFailureLimit?: number;
  /**
   * Passive health: this many consecutive first-byte timeouts (see `timeouts.firstByte`) of real traffic
   * mark the backend down at once. 0 = off.
   */
  firstByteTimeoutLimit?: number;
  /** Bytes to write after connecting (a string is sent as UTF-8). */
  send?: string | Uint8Array;
  /** The reply must contain this string, or match this pattern (read as latin1), within `timeout`. */
  expect?: string | RegExp;
}

/** Timeouts: milliseconds or a duration string (`"5s"`, `"2m"`); 0 disables one. */
export interface TimeoutsConfig {
  /** Establishing the TCP connection to one backend; on expiry the next backend is tried. */
  connect?: Duration;
  /** No byte in either direction for this long closes both sides. */
  idle?: Duration;
  /** Once one side has sent FIN, the other must finish within this much inactivity. */
  clientFin?: Duration;
  /** A connection waiting for a free `maxconn` slot gives up after this long. */
  queue?: Duration;
  /** An accepting listener waits this long for a complete PROXY header. */
  proxyHeader?: Duration;
  /**
   * First-byte timeout (`--first-byte-timeout`): once the client has sent bytes, the backend must send its
   * first byte within this long, or the connection counts as a backend failure (passive health) and is
   * closed — or retried on another backend when the pool sets `retryOnFirstByteTimeout`. Catches a backend
   * that is frozen (SIGSTOP, a stuck event loop): the kernel still completes its handshakes, so connects
   * succeed and only replies stop. Only the first reply byte is watched; 0 = off.
   */
  firstByte?: Duration;
}

/** Either a built-in policy's name or your own function. */
export type PolicyOption = PolicyName | Policy;

export interface PoolConfig {
  name: string;
  /** How a backend is chosen per connection. */
  policy?: PolicyOption;
  backends: BackendConfig[];
  health?: HealthConfig;
  /** Extra connect attempts, each on another backend when one is left (HAProxy `retries` + `redispatch`). */
  retries?: number;
  /** Connections that may wait for a `maxconn` slot in this pool; beyond it they are closed. */
  maxQueue?: number;
  /**
   * After a first-byte timeout, replay the client bytes the balancer still holds (at most `maxHeldBytes`,
   * kept until the backend's first byte) to another backend, counted against `retries`.
   *
   * Off by default, and safe ONLY for idempotent protocols: the frozen backend may already have acted on
   * the bytes (a payment, a non-idempotent write) and may still do so when it thaws, so the request then
   * runs twice. Fine for GET-style HTTP, DNS over TCP, read-only queries; wrong for anything else.
   */
  retryOnFirstByteTimeout?: boolean;
}

/** `proxy` forwards bytes; `director` answers `host:port\n` of the chosen backend and closes. */
export type ListenerMode = 'proxy' | 'director';

export interface ListenerConfig {
  /** Identity across reloads. Default: `host:port`. */
  name?: string;
  host?: string;
  /** 0 picks a free port; `start()` reports the port it got. */
  port: number;
  /** Name of the pool this listener sends clients to. */
  pool: string;
  mode?: ListenerMode;
  /** Expect a PROXY v1 or v2 header from each client (auto-detected) and use its source as the client. */
  acceptProxyProtocol?: boolean;
  /** Overrides of the balancer-wide timeouts for this listener. */
  timeouts?: TimeoutsConfig;
  /** `listen()` backlog. */
  backlog?: number;
}

export interface BalancerConfig {
  listeners: ListenerConfig[];
  pools: PoolConfig[];
  /** Defaults for every listener. */
  timeouts?: TimeoutsConfig;
  /** Client bytes held while the backend connection is being set up, before reading is paused. */
  maxHeldBytes?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Defaults. Each has the reason it is what it is.

/** Pick a backend the same way every proxy does by default (HAProxy `balance roundrobin`, nginx). */
export const DEFAULT_POLICY: PolicyName = 'round-robin';
/** Equal shares unless told otherwise (HAProxy and nginx both default to 1). */
export const DEFAULT_WEIGHT = 1;
/**
 * Largest weight: HAProxy's cap (`weight` 0..256). A bound keeps every policy's state small and finite —
 * source-hash rings grow with total weight, smooth weighted round robin sums weights — and 256 levels are
 * more resolution than any real capacity ratio needs.
 */
export const MAX_WEIGHT = 256;
/** Unlimited, like HAProxy `maxconn 0` on a server: the queue only exists when you ask for a limit. */
export const DEFAULT_MAXCONN = 0;
/** Checks on unless disabled: a balancer that keeps sending to a dead backend is the failure we exist for. */
export const DEFAULT_HEALTH_ENABLED = true;
/** HAProxy's `inter` default. */
export const DEFAULT_HEALTH_INTERVAL = 2000;
/** HAProxy's `rise` default. */
export const DEFAULT_HEALTH_RISE = 2;
/** HAProxy's `fall` default. */
export const DEFAULT_HEALTH_FALL = 3;
/** HAProxy uses `inter` when `timeout check` is unset; a check must not outlive the next one. */
export const DEFAULT_HEALTH_TIMEOUT = DEFAULT_HEALTH_INTERVAL;
/** Cap on bytes read from a health-check reply while looking for `expect`; banners/status lines are short. */
export const DEFAULT_MAX_HEALTH_REPLY_BYTES = 16 * 1024;
/**
 * Consecutive first-byte timeouts that mark a backend down: with `fall`'s default, 3 clients in a row must
 * see a silent backend — one slow reply is not enough, a frozen backend is noticed within milliseconds at
 * any real request rate.
 */
export const DEFAULT_FIRST_BYTE_TIMEOUT_LIMIT = 3;
/**
 * Off by default: what a "slow first byte" is depends on the protocol (a long-poll or a server-speaks-
 * first protocol may wait for minutes). HAProxy's `timeout server` is likewise unset unless configured.
 */
export const DEFAULT_FIRST_BYTE_TIMEOUT = 0;
/** HAProxy's `retries` default. */
export const DEFAULT_RETRIES = 3;
/** Bounded queue: past it a client is refused at once instead of piling up memory and fds. */
export const DEFAULT_MAX_QUEUE = 1024;
/** A typical `timeout connect` (HAProxy docs use 5 s); loopback/LAN connects take < 1 ms. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;
/** nginx stream's `proxy_timeout` default (10 min): long enough for idle keep-alive pools. */
export const DEFAULT_IDLE_TIMEOUT = 600_000;
/** Half-closed connections are where fds leak (HAProxy `timeout client-fin`); 30 s is ample to flush a reply. */
export const DEFAULT_CLIENT_FIN_TIMEOUT = 30_000;
/** HAProxy falls back to `timeout connect` for `timeout queue`; same here. */
export const DEFAULT_QUEUE_TIMEOUT = DEFAULT_CONNECT_TIMEOUT;
/** A real PROXY sender writes the header at once; 3 s covers slow links without holding fds for long. */
export const DEFAULT_PROXY_HEADER_TIMEOUT = 3000;
/** One socket read (64 KiB) is what a client can send before the connect finishes without being paused. */
export const DEFAULT_MAX_HELD_BYTES = 64 * 1024;
/** Node's default backlog for `listen()`. */
export const DEFAULT_BACKLOG = 511;
/** Listen on loopback unless told: an open balancer on all interfaces should be a decision. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
/** How long `close()` waits for established connections before destroying them. */
export const DEFAULT_CLOSE_DEADLINE = 30_000;
/** Time accepting is shed after EMFILE/ENFILE, so fds can free up instead of spinning on failed connects. */
export const DEFAULT_ACCEPT_PAUSE_MS = 1000;

// ---------------------------------------------------------------------------------------------------------
// Resolved (defaults filled) shapes, used internally and by `stats()`.

export interface ResolvedBackend {
  id: string;
  host: string;
  port: number;
  weight: number;
  backup: boolean;
  maxconn: number;
  proxyProtocol: ProxyProtocolVersion | undefined;
}

export interface ResolvedHealth {
  enabled: boolean;
  interval: number;
  rise: number;
  fall: number;
  timeout: number;
  connectFailureLimit: number;
  firstByteTimeoutLimit: number;
  send: Uint8Array | undefined;
  expect: string | RegExp | undefined;
}

export interface ResolvedTimeouts {
  connect: number;
  idle: number;
  clientFin: number;
  queue: number;
  proxyHeader: number;
  firstByte: number;
}

export interface ResolvedPool {
  name: string;
  policy: PolicyOption;
  backends: ResolvedBackend[];
  health: ResolvedHealth;
  retries: number;
  maxQueue: number;
  retryOnFirstByteTimeout: boolean;
}

export interface ResolvedListener {
  name: string;
  host: string;
  port: number;
  pool: string;
  mode: ListenerMode;
  acceptProxyProtocol: boolean;
  timeouts: ResolvedTimeouts;
  backlog: number;
}

export interface ResolvedConfig {
  listeners: ResolvedListener[];
  pools: ResolvedPool[];
  maxHeldBytes: number;
}

/** The balancer-wide timeouts when a config sets none (each listener may override them). */
export const DEFAULT_TIMEOUTS: Readonly<ResolvedTimeouts> = Object.freeze({
  connect: DEFAULT_CONNECT_TIMEOUT,
  idle: DEFAULT_IDLE_TIMEOUT,
  clientFin: DEFAULT_CLIENT_FIN_TIMEOUT,
  queue: DEFAULT_QUEUE_TIMEOUT,
  proxyHeader: DEFAULT_PROXY_HEADER_TIMEOUT,
  firstByte: DEFAULT_FIRST_BYTE_TIMEOUT,
});

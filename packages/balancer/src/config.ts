/**
 * The typed configuration of a balancer, with one `DEFAULT_*` per option.
 *
 * Shape (HAProxy's frontend/backend split, nginx stream's `server`/`upstream`):
 *
 * ```
 *   listeners[] ──pool name──▶ pools[] ──▶ backends[]
 *   (where clients connect)    (policy, health, retries)   (host:port, weight, backup, maxconn, PROXY)
 * ```
 *
 * Everything optional has a default here; `resolveConfig()` checks a config with the config JSON schema
 * (`ops/config-schema.ts`, compiled ahead of time into `generated/`), then what a schema cannot (names
 * that must be unique, a listener naming a pool that exists), and fills the defaults in.
 */

import { isIP } from 'node:net';
import { backendSchemaIssues, configSchemaIssues } from './config-validate.js';
import { type Duration, parseDuration } from './duration.js';
import { BalancerConfigError, type ConfigIssue } from './errors.js';
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

/** Collects problems in one pass so a config is fixed in one go, not one restart per error. */
class Issues {
  readonly list: ConfigIssue[] = [];
  add(pointer: string, message: string): void {
    this.list.push({ pointer, message });
  }
  throwIfAny(): void {
    const first = this.list[0];
    if (first) throw new BalancerConfigError(first.pointer, first.message, this.list);
  }
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, ≤ 63 each, ≤ 253 in all. */
const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * An IP literal or an RFC 1123 host name, nothing else: a host ends up in connect(2) calls, logs and the
 * director's `host:port\n` answers, so control characters or spaces (`"127.0.0.1\r\nX"`) must never get in.
 * Checked here rather than in the schema: JSON Schema's `hostname` format needs ajv-formats at run time.
 */
export function isValidHost(v: string): boolean {
  return isIP(v) !== 0 || HOSTNAME_RE.test(v);
}

function checkHost(v: unknown, pointer: string, issues: Issues): void {
  if (typeof v === 'string' && !isValidHost(v)) {
    issues.add(pointer, `must be an IP address or an RFC 1123 host name (got ${JSON.stringify(v)})`);
  }
}

/**
 * The weight rule of the schema (integer 0..{@link MAX_WEIGHT}) for values that arrive alone: `setWeight`
 * and the admin API's weight call, so both refuse what a config file would.
 */
export function checkWeight(v: unknown, pointer: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_WEIGHT) {
    throw new BalancerConfigError(
      pointer,
      `must be an integer 0..${MAX_WEIGHT} (HAProxy's range), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * `*` means every IPv4 address, as in HAProxy (`bind *:80`) and nginx (`listen *:80`); `0.0.0.0` and `::`
 * (`[::]:80`, every IPv6 address and, on Linux by default, IPv4 too) need no translation.
 */
export const ANY_ADDRESS_HOST = '*';
function listenHost(h: string): string {
  return h === ANY_ADDRESS_HOST ? '0.0.0.0' : h;
}

/** `host:port`, with brackets around IPv6 addresses so the port stays unambiguous. */
export function formatHostPort(h: string, p: number): string {
  return h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`;
}

/** Milliseconds of a duration the schema already accepted; what it cannot check (range, 0.5ms) is an issue. */
function duration(v: Duration | undefined, pointer: string, dflt: number, issues: Issues, min = 0): number {
  if (v === undefined) return dflt;
  const d = parseDuration(v);
  if ('reason' in d) {
    issues.add(pointer, d.reason);
    return dflt;
  }
  if (d.ms < min) issues.add(pointer, `must be at least ${min} ms (got ${JSON.stringify(v)})`);
  return d.ms;
}

/**
 * The schema's view of a library config: the values only a program can pass (a policy function, `send` as
 * bytes, `expect` as a RegExp) are set aside, since JSON has no such types; they are checked by type here.
 */
function schemaView(config: BalancerConfig): unknown {
  if (config === null || typeof config !== 'object' || !Array.isArray(config.pools)) return config;
  return {
    ...config,
    pools: config.pools.map((p) => {
      if (p === null || typeof p !== 'object') return p;
      const { policy, health, ...rest } = p;
      const view: Record<string, unknown> = { ...rest };
      if (typeof policy !== 'function' && policy !== undefined) view.policy = policy;
      if (health !== null && typeof health === 'object') {
        const { send, expect, ...h } = health;
        view.health = {
          ...h,
          ...(send instanceof Uint8Array ? {} : send === undefined ? {} : { send }),
          ...(expect instanceof RegExp ? {} : expect === undefined ? {} : { expect }),
        };
      } else if (health !== undefined) view.health = health;
      return view;
    }),
  };
}

/** Settings of the command's config file that mean nothing to the library. */
const FILE_ONLY_KEYS = ['admin', 'workers', 'log', '$schema'];

export function resolveBackend(b: BackendConfig, pointer: string): ResolvedBackend {
  const issues = new Issues();
  for (const i of backendSchemaIssues(b)) issues.add(`${pointer}${i.pointer}`, i.message);
  if (issues.list.length === 0) checkHost(b.host, `${pointer}/host`, issues);
  issues.throwIfAny();
  return fillBackend(b);
}

function fillBackend(b: BackendConfig): ResolvedBackend {
  return {
    id: b.id ?? formatHostPort(b.host, b.port),
    host: b.host,
    port: b.port,
    weight: b.weight ?? DEFAULT_WEIGHT,
    backup: b.backup ?? false,
    maxconn: b.maxconn ?? DEFAULT_MAXCONN,
    proxyProtocol: b.proxyProtocol,
  };
}

function resolveHealth(h: HealthConfig | undefined, pointer: string, issues: Issues): ResolvedHealth {
  const c = h ?? {};
  const interval = duration(c.interval, `${pointer}/interval`, DEFAULT_HEALTH_INTERVAL, issues, 1);
  return {
    enabled: c.enabled ?? DEFAULT_HEALTH_ENABLED,
    interval,
    rise: c.rise ?? DEFAULT_HEALTH_RISE,
    fall: c.fall ?? DEFAULT_HEALTH_FALL,
    connectFailureLimit: c.connectFailureLimit ?? c.fall ?? DEFAULT_HEALTH_FALL,
    firstByteTimeoutLimit: c.firstByteTimeoutLimit ?? DEFAULT_FIRST_BYTE_TIMEOUT_LIMIT,
    // Like HAProxy, an unset check timeout follows the interval.
    timeout: duration(c.timeout, `${pointer}/timeout`, interval, issues, 1),
    send: typeof c.send === 'string' ? Buffer.from(c.send, 'utf8') : c.send,
    expect: c.expect,
  };
}

function resolveTimeouts(
  t: TimeoutsConfig | undefined,
  base: ResolvedTimeouts,
  pointer: string,
  issues: Issues,
): ResolvedTimeouts {
  const c = t ?? {};
  return {
    connect: duration(c.connect, `${pointer}/connect`, base.connect, issues),
    idle: duration(c.idle, `${pointer}/idle`, base.idle, issues),
    clientFin: duration(c.clientFin, `${pointer}/clientFin`, base.clientFin, issues),
    queue: duration(c.queue, `${pointer}/queue`, base.queue, issues),
    proxyHeader: duration(c.proxyHeader, `${pointer}/proxyHeader`, base.proxyHeader, issues),
    firstByte: duration(c.firstByte, `${pointer}/firstByte`, base.firstByte, issues),
  };
}

export const DEFAULT_TIMEOUTS: Readonly<ResolvedTimeouts> = Object.freeze({
  connect: DEFAULT_CONNECT_TIMEOUT,
  idle: DEFAULT_IDLE_TIMEOUT,
  clientFin: DEFAULT_CLIENT_FIN_TIMEOUT,
  queue: DEFAULT_QUEUE_TIMEOUT,
  proxyHeader: DEFAULT_PROXY_HEADER_TIMEOUT,
  firstByte: DEFAULT_FIRST_BYTE_TIMEOUT,
});

/**
 * Check `config` against the config JSON schema (the same rules and messages as a config file), then what a
 * schema cannot express (unique names, a listener naming a pool that exists), and fill in defaults. Throws
 * {@link BalancerConfigError} (`IOLAB_BALANCER_CONFIG_INVALID`) listing every problem as a JSON pointer and
 * why, e.g. `/pools/0/backends/2/port: must be <= 65535 (got 70000)`.
 */
export function resolveConfig(config: BalancerConfig): ResolvedConfig {
  const issues = new Issues();
  for (const i of configSchemaIssues(schemaView(config))) issues.add(i.pointer, i.message);
  if (config !== null && typeof config === 'object') {
    for (const key of FILE_ONLY_KEYS) {
      if (key in config)
        issues.add(`/${key}`, 'is a setting of the iolab-balancer config file, not of createBalancer()');
    }
    config.pools?.forEach?.((p, i) => {
      if (p?.policy !== undefined && typeof p.policy !== 'function' && typeof p.policy !== 'string') {
        issues.add(`/pools/${i}/policy`, 'must be a policy name or a function');
      }
    });
  }
  // The shapes below are guaranteed from here on.
  issues.throwIfAny();
  const baseTimeouts = resolveTimeouts(config.timeouts, DEFAULT_TIMEOUTS, '/timeouts', issues);
  const pools = config.pools.map((p, i): ResolvedPool => {
    for (const [j, b] of p.backends.entries()) checkHost(b.host, `/pools/${i}/backends/${j}/host`, issues);
    const backends = p.backends.map(fillBackend);
    const ids = new Set<string>();
    backends.forEach((b, j) => {
      if (ids.has(b.id))
        issues.add(`/pools/${i}/backends/${j}/id`, `duplicate backend id ${JSON.stringify(b.id)}`);
      ids.add(b.id);
    });
    return {
      name: p.name,
      policy: p.policy ?? DEFAULT_POLICY,
      backends,
      health: resolveHealth(p.health, `/pools/${i}/health`, issues),
      retries: p.retries ?? DEFAULT_RETRIES,
      maxQueue: p.maxQueue ?? DEFAULT_MAX_QUEUE,
      retryOnFirstByteTimeout: p.retryOnFirstByteTimeout ?? false,
    };
  });
  const poolNames = new Set<string>();
  pools.forEach((p, i) => {
    if (poolNames.has(p.name))
      issues.add(`/pools/${i}/name`, `duplicate pool name ${JSON.stringify(p.name)}`);
    poolNames.add(p.name);
  });
  const listeners = config.listeners.map((l, i): ResolvedListener => {
    const f = `/listeners/${i}`;
    const h = listenHost(l.host ?? DEFAULT_LISTEN_HOST);
    // After `*` is translated: the host check is for addresses and names only.
    checkHost(h, `${f}/host`, issues);
    if (!poolNames.has(l.pool)) issues.add(`${f}/pool`, `names no pool: ${JSON.stringify(l.pool)}`);
    const mode = l.mode ?? 'proxy';
    if (mode === 'director' && l.acceptProxyProtocol === true) {
      issues.add(
        `${f}/acceptProxyProtocol`,
        'is not supported in director mode (it answers before reading anything)',
      );
    }
    return {
      name: l.name ?? formatHostPort(h, l.port),
      host: h,
      port: l.port,
      pool: l.pool,
      mode,
      acceptProxyProtocol: l.acceptProxyProtocol ?? false,
      timeouts: resolveTimeouts(l.timeouts, baseTimeouts, `${f}/timeouts`, issues),
      backlog: l.backlog ?? DEFAULT_BACKLOG,
    };
  });
  const listenerNames = new Set<string>();
  listeners.forEach((l, i) => {
    if (listenerNames.has(l.name)) {
      issues.add(`/listeners/${i}/name`, `duplicate listener name ${JSON.stringify(l.name)}`);
    }
    listenerNames.add(l.name);
  });
  issues.throwIfAny();
  return { listeners, pools, maxHeldBytes: config.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES };
}

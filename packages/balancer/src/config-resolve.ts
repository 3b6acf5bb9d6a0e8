/**
 * Checking and resolving a {@link BalancerConfig}: `resolveConfig()` checks a config with the config JSON
 * schema (`ops/config-schema.ts`, compiled ahead of time into `generated/`), then what a schema cannot (names
 * that must be unique, a listener naming a pool that exists, host names), and fills the defaults of
 * `config.ts` in. Kept apart from the declarations so the option list stays readable on its own.
 */

import { isIP } from 'node:net';
import {
  type BackendConfig,
  type BalancerConfig,
  DEFAULT_BACKLOG,
  DEFAULT_FIRST_BYTE_TIMEOUT_LIMIT,
  DEFAULT_HEALTH_ENABLED,
  DEFAULT_HEALTH_FALL,
  DEFAULT_HEALTH_INTERVAL,
  DEFAULT_HEALTH_RISE,
  DEFAULT_LISTEN_HOST,
  DEFAULT_MAX_HELD_BYTES,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAXCONN,
  DEFAULT_POLICY,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
  DEFAULT_WEIGHT,
  type HealthConfig,
  MAX_WEIGHT,
  type ResolvedBackend,
  type ResolvedConfig,
  type ResolvedHealth,
  type ResolvedListener,
  type ResolvedPool,
  type ResolvedTimeouts,
  type TimeoutsConfig,
} from './config.js';
import { backendSchemaIssues, configSchemaIssues } from './config-validate.js';
import { type Duration, parseDuration } from './duration.js';
import { BalancerConfigError, type ConfigIssue } from './errors.js';

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

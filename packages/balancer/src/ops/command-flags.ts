/**
 * What `iolab balance` / `iolab-balancer` accepts: the help text, the flags, and how they become a config.
 * Flags build the same JSON a config file holds, so a flag and a file are checked by one schema; with
 * `--config`, flags override the file's first listener / first pool. Nothing here starts anything, so
 * `resolveBalanceArgs` (and the reload path, which re-applies the flags to a re-read file) can use it
 * without a process to run; running the process is `command.ts`.
 */
import { parseArgs } from 'node:util';
import { POLICY_NAMES } from '../config.js';
import { parseDuration } from '../duration.js';
import {
  type BalancerFileConfig,
  ConfigFileError,
  DEFAULT_LOG_LEVEL,
  LOG_LEVELS,
  parseBalancerConfig,
  readBalancerConfigJson,
} from './config-schema.js';

export const help = (
  prog: string,
): string => `usage: ${prog} --listen HOST:PORT --backend HOST:PORT[,OPTS] [--backend ...] [options]
       ${prog} --config FILE [options]

A layer-4 (TCP) load balancer: each client connection is forwarded to one backend, bytes copied both ways.
Prints "listening on HOST:PORT" on stdout once accepting (the real port when PORT is 0). Logs are JSON
lines (pino) on stderr: one per connection end, one per backend state change.

listeners and backends:
  --listen HOST:PORT        accept clients here (repeatable; PORT 0 = any free port). Default host 127.0.0.1;
                            *:PORT or 0.0.0.0:PORT = every IPv4 address, [::]:PORT = every address
  --director HOST:PORT      director mode: answer each client with the chosen backend's "host:port\\n"
                            and close, so it connects to the backend directly (repeatable)
  --backend HOST:PORT[,weight=W][,backup][,proxy=v1|v2][,maxconn=N][,id=NAME]
                            a backend (repeatable). weight: relative share under every policy but
                            source-hash (default 1; 0 = never picked); backup: used only when every other backend is down;
                            proxy: send a PROXY protocol v1/v2 header first; maxconn: connection limit
                            (more wait in a queue); id: name in the admin API (default HOST:PORT)
  --accept-proxy            expect a PROXY v1/v2 header from clients (e.g. behind another balancer)
  --engine user|nft         user: this process forwards the bytes (default); nft: the kernel forwards the
                            packets (nftables DNAT, LVS-NAT: real servers must route replies via this host);
                            policies round-robin|weighted|source-hash, IPv4, needs root

policy and health:
  --policy NAME             ${POLICY_NAMES.join(' | ')} (default round-robin:
                            smooth weighted round robin, as nginx; weighted is the same policy)
  --health-interval TIME    active TCP check interval (default 2s)
  --health-timeout TIME     one check's timeout (default: the interval)
  --rise N                  good checks to bring a backend back up (default 2)
  --fall N                  bad checks (or failed connects) to take it down (default 3)
  --health-send TEXT        send this after connecting in a check
  --health-expect TEXT      the check's reply must contain this
  --no-health               no active checks
  --connect-failure-limit N consecutive failed connects of real traffic that mark a backend down at once
                            (passive health; default: --fall; 0 = off)
  --first-byte-timeout-limit N
                            consecutive first-byte timeouts that mark a backend down at once (default 3)
  --retry-on-first-byte-timeout
                            replay the client's bytes on another backend after a first-byte timeout.
                            ONLY for idempotent protocols: the silent backend may still act on them
  --retries N               connect attempts on other backends before giving up (default 3)
  --max-queue N             connections waiting for a maxconn slot (default 1024)

timeouts (TIME: 250ms, 5s, 2m, 1h, 1m30s; a bare number is ms; 0 = none):
  --connect-timeout TIME    backend connect (default 5s)
  --idle-timeout TIME       no traffic either way (default 10m)
  --client-fin-timeout TIME after one side half-closed (default 30s)
  --queue-timeout TIME      waiting for a maxconn slot (default 5s)
  --first-byte-timeout TIME once the client has sent bytes, the backend's first reply byte must come
                            within TIME, else the connection fails and counts against the backend's
                            passive health: catches frozen backends whose kernel still accepts (default 0 = off)

operations:
  --config FILE             config file: YAML if it ends in .yaml/.yml, else JSON (schema: schema/
                            balancer-config.schema.json in @iolab/balancer); SIGHUP reloads it
  --check                   validate the config as start would (including that listen addresses
                            resolve), print "config ok" and exit (1 if invalid)
  --print                   with --check: print the effective config (file + flags + defaults) as JSON
  --admin HOST:PORT         admin HTTP API + /metrics (PORT alone = 127.0.0.1:PORT); prints "admin on HOST:PORT"
  --admin unix:/PATH        the admin API on a Unix socket, mode 0600 (guarded by file permissions)
  --admin-token TOKEN       every admin request needs "Authorization: Bearer TOKEN" (16+ characters).
                            Also IOLAB_ADMIN_TOKEN (preferred: argv is visible in ps) or admin.token in the
                            config. With none, a token is generated, written to an owner-only file and
                            "admin token in PATH" printed. A non-loopback --admin requires one of them.
  --workers N               N worker processes sharing the listening socket (node:cluster); the primary
                            serves the admin API and sums the workers' counters and metrics
  --log-level LEVEL         ${LOG_LEVELS.join(' | ')} (default ${DEFAULT_LOG_LEVEL})
  --drain-timeout TIME      on SIGTERM/SIGINT, how long established connections may finish (default 30s)
  -h, --help                this help
  -v, --version             print the version

signals:
  SIGTERM, SIGINT           stop accepting, drain established connections, exit 0 (a second signal: now)
  SIGHUP                    reload --config FILE (flags re-applied); a bad file is logged, the old config
                            keeps running; established connections are never dropped. Backends added
                            through the admin API and not in the file are removed, one log line each
                            (event backend-removed-by-reload): the file is the source of truth

exit codes: 0 ok, 1 runtime or config file error, 2 bad usage
`;

/** Bad flags: the process prints the message and exits 2. */
export class UsageError extends Error {}

interface HostPort {
  host: string;
  port: number;
}

function parseHostPort(flag: string, value: string, defaultHost: string): HostPort {
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (/^\d+$/.test(value)) {
    host = defaultHost;
    portText = value;
  } else {
    const idx = value.lastIndexOf(':');
    if (idx < 0) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected HOST:PORT`);
    host = value.slice(0, idx) || defaultHost;
    portText = value.slice(idx + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`${flag} ${JSON.stringify(value)}: port must be 0..65535`);
  }
  return { host, port };
}

function parseIntFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new UsageError(`${flag}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** A TIME flag: `250ms`, `5s`, `2m`, `1m30s`, or bare milliseconds. Kept as written for --print. */
export function parseDurationFlag(flag: string, value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const d = parseDuration(/^[0-9]+$/.test(value) ? Number(value) : value);
  if ('reason' in d) throw new UsageError(`${flag}: ${d.reason}`);
  return /^[0-9]+$/.test(value) ? d.ms : value;
}

function parseBackendFlag(value: string): Record<string, unknown> {
  const [address, ...opts] = value.split(',');
  const { host, port } = parseHostPort('--backend', address ?? '', '127.0.0.1');
  const backend: Record<string, unknown> = { host, port };
  for (const opt of opts) {
    const [key, val] = opt.split('=', 2);
    switch (key) {
      case 'weight':
      case 'maxconn':
        backend[key] = parseIntFlag(`--backend ${value}: ${key}`, val ?? '');
        break;
      case 'backup':
        if (val !== undefined) throw new UsageError(`--backend ${value}: backup takes no value`);
        backend.backup = true;
        break;
      case 'proxy':
        if (val !== 'v1' && val !== 'v2') throw new UsageError(`--backend ${value}: proxy must be v1 or v2`);
        backend.proxyProtocol = val;
        break;
      case 'id':
        if (!val) throw new UsageError(`--backend ${value}: id needs a value`);
        backend.id = val;
        break;
      default:
        throw new UsageError(
          `--backend ${value}: unknown option ${JSON.stringify(opt)} (weight, backup, proxy, maxconn, id)`,
        );
    }
  }
  return backend;
}

export const OPTIONS = {
  listen: { type: 'string', multiple: true },
  director: { type: 'string', multiple: true },
  backend: { type: 'string', multiple: true },
  'accept-proxy': { type: 'boolean' },
  engine: { type: 'string' },
  policy: { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  rise: { type: 'string' },
  fall: { type: 'string' },
  'health-send': { type: 'string' },
  'health-expect': { type: 'string' },
  'no-health': { type: 'boolean' },
  retries: { type: 'string' },
  'max-queue': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'client-fin-timeout': { type: 'string' },
  'queue-timeout': { type: 'string' },
  'first-byte-timeout': { type: 'string' },
  'connect-failure-limit': { type: 'string' },
  'first-byte-timeout-limit': { type: 'string' },
  'retry-on-first-byte-timeout': { type: 'boolean' },
  'admin-token': { type: 'string' },
  config: { type: 'string' },
  check: { type: 'boolean' },
  print: { type: 'boolean' },
  admin: { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
  'drain-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type Flags = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>
>['values'];

export type Json = Record<string, unknown>;

/** Applies flags onto a config-file JSON object (or an empty one). Returns a new object. */
export function mergeFlags(base: unknown, flags: Flags): Json {
  const raw: Json = structuredClone((base ?? {}) as Json);
  const pools = Array.isArray(raw.pools) ? (raw.pools as Json[]) : [];
  if (pools.length === 0) pools.push({ name: 'default', backends: [] });
  raw.pools = pools;
  const pool = pools[0]!;
  const poolName = typeof pool.name === 'string' ? pool.name : 'default';

  if (flags.listen !== undefined || flags.director !== undefined) {
    raw.listeners = [
      ...(flags.listen ?? []).map((v) => ({ ...parseHostPort('--listen', v, '127.0.0.1'), pool: poolName })),
      ...(flags.director ?? []).map((v) => ({
        ...parseHostPort('--director', v, '127.0.0.1'),
        pool: poolName,
        mode: 'director',
      })),
    ];
  }
  if (flags['accept-proxy'] && Array.isArray(raw.listeners)) {
    for (const l of raw.listeners as Json[]) l.acceptProxyProtocol = true;
  }
  if (flags.backend !== undefined) pool.backends = flags.backend.map(parseBackendFlag);
  if (flags.policy !== undefined) {
    if (!(POLICY_NAMES as readonly string[]).includes(flags.policy)) {
      throw new UsageError(
        `--policy: must be one of ${POLICY_NAMES.join(', ')}, got ${JSON.stringify(flags.policy)}`,
      );
    }
    pool.policy = flags.policy;
  }
  const health: Json = { ...((pool.health as Json | undefined) ?? {}) };
  const setInt = (target: Json, key: string, flag: keyof Flags): void => {
    const v = parseIntFlag(`--${flag}`, flags[flag] as string | undefined);
    if (v !== undefined) target[key] = v;
  };
  const setDuration = (target: Json, key: string, flag: keyof Flags): void => {
    const v = parseDurationFlag(`--${flag}`, flags[flag] as string | undefined);
    if (v !== undefined) target[key] = v;
  };
  setDuration(health, 'interval', 'health-interval');
  setDuration(health, 'timeout', 'health-timeout');
  setInt(health, 'rise', 'rise');
  setInt(health, 'fall', 'fall');
  if (flags['health-send'] !== undefined) health.send = flags['health-send'];
  if (flags['health-expect'] !== undefined) health.expect = flags['health-expect'];
  if (flags['no-health']) health.enabled = false;
  setInt(health, 'connectFailureLimit', 'connect-failure-limit');
  setInt(health, 'firstByteTimeoutLimit', 'first-byte-timeout-limit');
  if (flags['retry-on-first-byte-timeout']) pool.retryOnFirstByteTimeout = true;
  if (Object.keys(health).length > 0) pool.health = health;
  setInt(pool, 'retries', 'retries');
  setInt(pool, 'maxQueue', 'max-queue');

  const timeouts: Json = { ...((raw.timeouts as Json | undefined) ?? {}) };
  setDuration(timeouts, 'connect', 'connect-timeout');
  setDuration(timeouts, 'idle', 'idle-timeout');
  setDuration(timeouts, 'clientFin', 'client-fin-timeout');
  setDuration(timeouts, 'queue', 'queue-timeout');
  setDuration(timeouts, 'firstByte', 'first-byte-timeout');
  if (Object.keys(timeouts).length > 0) raw.timeouts = timeouts;

  if (flags.admin !== undefined) {
    const token = (raw.admin as Json | undefined)?.token;
    raw.admin = flags.admin.startsWith('unix:')
      ? { path: flags.admin.slice('unix:'.length) }
      : parseHostPort('--admin', flags.admin, '127.0.0.1');
    if (token !== undefined) (raw.admin as Json).token = token;
  }
  // The flag, then the environment, then the file: the most explicit source wins. An exported
  // IOLAB_ADMIN_TOKEN is simply unused when there is no admin API; the flag without one is a mistake.
  if (flags['admin-token'] !== undefined && raw.admin === undefined) {
    throw new UsageError('--admin-token needs --admin (or admin in the config file)');
  }
  const token = flags['admin-token'] ?? process.env.IOLAB_ADMIN_TOKEN;
  if (token !== undefined && token !== '' && raw.admin !== undefined) (raw.admin as Json).token = token;
  const workers = parseIntFlag('--workers', flags.workers);
  if (workers !== undefined) raw.workers = workers;
  if (flags['log-level'] !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(flags['log-level'])) {
      throw new UsageError(`--log-level: must be one of ${LOG_LEVELS.join(', ')}`);
    }
    raw.log = { ...((raw.log as Json | undefined) ?? {}), level: flags['log-level'] };
  }
  return raw;
}

/**
 * Parses `iolab balance` arguments into the validated config (what the process would run), without
 * starting anything. Throws {@link UsageError} for bad flags, `ConfigFileError` for a bad config file.
 */
export async function resolveBalanceArgs(args: string[]): Promise<{ raw: Json; config: BalancerFileConfig }> {
  return buildConfig(parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values);
}

/** The file (if any) + flags, validated. A bad file is a config error (exit 1); bad flags are usage (exit 2). */
export async function buildConfig(flags: Flags): Promise<{ raw: Json; config: BalancerFileConfig }> {
  let base: unknown;
  if (flags.config !== undefined) {
    base = await readBalancerConfigJson(flags.config);
    parseBalancerConfig(base, flags.config);
  } else if (flags.listen === undefined && flags.director === undefined) {
    throw new UsageError('--listen HOST:PORT (or --config FILE) is required');
  } else if (flags.backend === undefined) {
    throw new UsageError('at least one --backend HOST:PORT is required');
  }
  const raw = mergeFlags(base, flags);
  try {
    return { raw, config: parseBalancerConfig(raw) };
  } catch (err) {
    if (err instanceof ConfigFileError) {
      throw new UsageError(
        `invalid options:\n${err.issues.map((i) => `  ${i.pointer}: ${i.message}`).join('\n')}`,
      );
    }
    throw err;
  }
}

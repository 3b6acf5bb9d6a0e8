/**
 * The balancer's config file: JSON checked against a JSON Schema (ajv, strict, all errors at once), then
 * turned into the data plane's {@link BalancerConfig} plus the operations settings (admin API, workers, log
 * level) that only the `iolab balance` process uses.
 *
 * Every problem is reported with a JSON pointer to the field and why, e.g.
 * `/pools/0/backends/1/port: must be <= 65535 (got 70000)`, and all problems in one go — fixing a config
 * one error per restart is what makes people stop validating.
 *
 * Rules the schema cannot express (unique names, a listener naming a pool that exists) are checked by the
 * data plane's `resolveConfig`, which reports in the same pointer form.
 *
 * The schema is compiled ahead of time (`npm run generate`, scripts/generate-validator.ts) into
 * `src/generated/config-validator.ts`: the command and `createBalancer()` run the same validator, and
 * neither loads ajv at run time.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type {
  BackendConfig,
  BalancerConfig,
  HealthConfig,
  ListenerConfig,
  PoolConfig,
  TimeoutsConfig,
} from '../config.js';
import { MAX_WEIGHT, POLICY_NAMES } from '../config.js';
import { resolveConfig } from '../config-resolve.js';
import { backendSchemaIssues, configSchemaIssues } from '../config-validate.js';
import { DURATION_PATTERN, MAX_DURATION_MS } from '../duration.js';
import { BalancerConfigError, type ConfigIssue } from '../errors.js';

/** A config file larger than this is a mistake (a log, a binary), not a balancer config. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** YAML aliases expanded per file: a config needs few; a "billion laughs" file needs millions. */
export const MAX_YAML_ALIAS_COUNT = 100;
/** Problems listed in one error message; past this the list is cut with a count. */
export const MAX_REPORTED_ISSUES = 20;

/**
 * Where the admin HTTP API listens (TCP, or a Unix socket guarded by its 0600 mode) and the bearer token it
 * requires. Without a token in the file, `--admin-token`, or `IOLAB_ADMIN_TOKEN`, the command generates one
 * and writes it to an owner-only file.
 */
export type AdminConfig = ({ host: string; port: number } | { path: string }) & { token?: string };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** What a config file holds: the data plane's config and the process's operations settings. */
export interface BalancerFileConfig {
  balancer: BalancerConfig;
  /** Absent = no admin API. */
  admin: AdminConfig | undefined;
  /** Worker processes sharing the listening sockets (`node:cluster`); 1 = no cluster. */
  workers: number;
  logLevel: LogLevel;
}

/** Admin API on loopback unless told: it can drain and remove backends, so exposing it must be a decision. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
/** One process: workers are an opt-in for when one core is not enough. */
export const DEFAULT_WORKERS = 1;
/** A worker per core at most is useful; more than this is a typo. */
export const MAX_WORKERS = 256;
/** One line per connection end and per state change: what an operator needs, no per-packet noise. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

export type { ConfigIssue } from '../errors.js';

/**
 * A config file (or CLI-built config) that does not validate. `code` is `IOLAB_BALANCER_CONFIG_INVALID`
 * like every config error; `field` is the first issue's pointer; `issues` lists them all.
 */
// TODO(data-plane): this class belongs in errors.ts next to BalancerConfigError; kept here to not edit a
// file another helper owns while it is being written.
export class ConfigFileError extends BalancerConfigError {
  readonly file: string | undefined;
  constructor(issues: readonly ConfigIssue[], file?: string) {
    const first = issues[0] ?? { pointer: '', message: 'is invalid' };
    super(first.pointer === '' ? '(root)' : first.pointer, first.message, issues);
    this.file = file;
    const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((i) => `  ${i.pointer || '(root)'}: ${i.message}`);
    if (issues.length > MAX_REPORTED_ISSUES)
      shown.push(`  … and ${issues.length - MAX_REPORTED_ISSUES} more`);
    this.message = `invalid balancer config${file ? ` ${file}` : ''}:\n${shown.join('\n')}`;
  }
}

/** Every property carries a `description`, so an editor given `$schema` shows what a field means. */
const port = (min: number, description: string) =>
  ({ type: 'integer', minimum: min, maximum: 65535, description }) as const;
const nonNegInt = (description: string) => ({ type: 'integer', minimum: 0, description }) as const;
const posInt = (description: string) => ({ type: 'integer', minimum: 1, description }) as const;
const host = (description: string) =>
  ({ type: 'string', minLength: 1, maxLength: 255, description }) as const;
const name = (description: string) =>
  ({ type: 'string', minLength: 1, maxLength: 200, description }) as const;
/** Milliseconds, or a string with units (`250ms`, `5s`, `2m`, `1h`, `1m30s`), as HAProxy and nginx write them. */
const duration = (description: string) =>
  ({
    type: ['integer', 'string'],
    minimum: 0,
    maximum: MAX_DURATION_MS,
    pattern: DURATION_PATTERN,
    description: `${description} Milliseconds, or a duration with units: 250ms, 5s, 2m, 1h, 1m30s.`,
  }) as const;

const timeoutsSchema = (description: string) =>
  ({
    type: 'object',
    additionalProperties: false,
    description,
    properties: {
      connect: duration(
        'Establishing the TCP connection to one backend; on expiry the next one is tried. 0 = none.',
      ),
      idle: duration('No byte in either direction for this long closes both sides. 0 = none.'),
      clientFin: duration(
        'After one side half-closed, the other must finish within this much inactivity. 0 = none.',
      ),
      queue: duration('How long a connection may wait for a free maxconn slot. 0 = none.'),
      proxyHeader: duration('How long an acceptProxyProtocol listener waits for the PROXY header. 0 = none.'),
      firstByte: duration(
        'Once the client has sent bytes, the backend must send its first byte within this, else the connection fails and counts against passive health. 0 = off (default).',
      ),
    },
  }) as const;

/** JSON Schema (draft-07) of the config file. Exported so editors and other tools can use it too. */
export const BALANCER_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://iolab.dev/schemas/balancer-config.json',
  title: '@iolab/balancer configuration',
  description:
    'Configuration of the iolab-balancer command (JSON or YAML): listeners send clients to pools of backends.',
  type: 'object',
  additionalProperties: false,
  required: ['listeners', 'pools'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema, for editor completion.' },
    listeners: {
      type: 'array',
      minItems: 1,
      description: 'Where clients connect; each listener sends its clients to one pool.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['port', 'pool'],
        description: 'One listening socket.',
        properties: {
          name: name('Identity across reloads. Default: host:port.'),
          host: host(
            'Address to listen on. Default 127.0.0.1. "*" or "0.0.0.0" = every IPv4 address; "::" = every address.',
          ),
          port: port(0, 'TCP port; 0 picks a free one (printed as "listening on HOST:PORT").'),
          pool: name('Name of the pool this listener sends clients to.'),
          mode: {
            enum: ['proxy', 'director'],
            description:
              'proxy (default) forwards bytes; director answers "host:port\\n" of the chosen backend and closes.',
          },
          acceptProxyProtocol: {
            type: 'boolean',
            description: 'Expect a PROXY v1/v2 header from each client and use its source as the client.',
          },
          timeouts: timeoutsSchema('Overrides of the top-level timeouts for this listener.'),
          backlog: posInt('listen() backlog. Default 511.'),
        },
      },
    },
    pools: {
      type: 'array',
      minItems: 1,
      description: 'Groups of backends, each with its policy and health checks.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'backends'],
        description: 'One pool of backends.',
        properties: {
          name: name('Pool name, referenced by listeners[].pool.'),
          policy: {
            enum: [...POLICY_NAMES],
            description:
              'How a backend is chosen per connection. Default round-robin (smooth weighted, like nginx).',
          },
          retries: nonNegInt('Extra connect attempts, each on another backend when one is left. Default 3.'),
          maxQueue: nonNegInt(
            'Connections that may wait for a maxconn slot; beyond it they are closed. Default 1024.',
          ),
          retryOnFirstByteTimeout: {
            type: 'boolean',
            description:
              'After a first-byte timeout, replay the held client bytes on another backend. Only safe for idempotent protocols. Default false.',
          },
          backends: {
            type: 'array',
            description: 'The servers of this pool.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['host', 'port'],
              description: 'One backend server.',
              properties: {
                id: name('Stable identity for the admin API, stats and reloads. Default: host:port.'),
                host: host('Backend IP address or RFC 1123 host name.'),
                port: port(1, 'Backend TCP port.'),
                weight: {
                  type: 'integer',
                  minimum: 0,
                  maximum: MAX_WEIGHT,
                  description: `Relative share of connections, 0..${MAX_WEIGHT} (HAProxy's range). Default 1; 0 = never picked.`,
                },
                backup: { type: 'boolean', description: 'Used only while every non-backup backend is down.' },
                maxconn: nonNegInt(
                  'Most concurrent connections; more wait in the queue. Default 0 = unlimited.',
                ),
                proxyProtocol: {
                  enum: ['v1', 'v2'],
                  description: 'Send a PROXY protocol header of this version before the client bytes.',
                },
              },
            },
          },
          health: {
            type: 'object',
            additionalProperties: false,
            description: 'Active TCP health checks.',
            properties: {
              enabled: { type: 'boolean', description: 'Run active checks at all. Default true.' },
              interval: duration('Time between two checks of one backend. Default 2s.'),
              rise: posInt('Consecutive good checks that bring a backend back up. Default 2.'),
              fall: posInt('Consecutive bad checks (or failed connects) that take it down. Default 3.'),
              connectFailureLimit: nonNegInt(
                'Passive health: consecutive failed connects of real traffic that mark a backend down at once. Default: fall; 0 = off.',
              ),
              firstByteTimeoutLimit: nonNegInt(
                'Passive health: consecutive first-byte timeouts that mark a backend down at once. Default 3; 0 = off.',
              ),
              timeout: duration('One check must finish within this. Default: the interval.'),
              send: { type: 'string', maxLength: 4096, description: 'Text sent after connecting.' },
              expect: {
                type: 'string',
                minLength: 1,
                maxLength: 4096,
                description: 'The reply must contain this text.',
              },
              expectPattern: {
                type: 'string',
                minLength: 1,
                maxLength: 4096,
                description: 'The reply must match this regular expression (instead of expect).',
              },
            },
          },
        },
      },
    },
    timeouts: timeoutsSchema('Timeouts for every listener.'),
    maxHeldBytes: posInt('Client bytes held while the backend connection is being set up. Default 65536.'),
    admin: {
      type: 'object',
      additionalProperties: false,
      description: 'Admin HTTP API and /metrics: TCP (port, host) or a Unix socket (path). Absent = none.',
      properties: {
        host: host('Address of the admin API. Default 127.0.0.1.'),
        port: port(0, 'Port of the admin API; 0 picks a free one.'),
        // sun_path holds 108 bytes including the NUL.
        path: {
          type: 'string',
          minLength: 1,
          maxLength: 107,
          description: 'Unix socket for the admin API instead of TCP, created mode 0600.',
        },
        // 16+ characters (MIN_ADMIN_TOKEN_LENGTH); visible ASCII is checked in adminOf (it travels in an
        // HTTP header), not by a pattern: the validator reads every pattern failure as a bad duration.
        token: {
          type: 'string',
          minLength: 16,
          maxLength: 512,
          description:
            'Bearer token every admin request must carry. Default: IOLAB_ADMIN_TOKEN, else generated into an owner-only file.',
        },
      },
    },
    workers: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_WORKERS,
      description: 'Worker processes sharing the listening sockets. Default 1.',
    },
    log: {
      type: 'object',
      additionalProperties: false,
      description: 'Logging (JSON lines on stderr).',
      properties: {
        level: { enum: [...LOG_LEVELS], description: 'Least severe level written. Default info.' },
      },
    },
  },
} as const;

/** The JSON form of a file, as the schema guarantees it once valid. */
interface FileJson {
  listeners: (Omit<ListenerConfig, 'timeouts'> & { timeouts?: TimeoutsConfig })[];
  pools: (Omit<PoolConfig, 'health' | 'policy'> & {
    policy?: (typeof POLICY_NAMES)[number];
    health?: Omit<HealthConfig, 'expect' | 'send'> & {
      send?: string;
      expect?: string;
      expectPattern?: string;
    };
  })[];
  timeouts?: TimeoutsConfig;
  maxHeldBytes?: number;
  admin?: { host?: string; port?: number; path?: string; token?: string };
  workers?: number;
  log?: { level?: LogLevel };
}

/**
 * Validates parsed JSON and returns the typed config. Throws {@link ConfigFileError} listing every problem
 * (schema violations first; if there are none, what the data plane's own checks found).
 */
export function parseBalancerConfig(json: unknown, file?: string): BalancerFileConfig {
  const issues = configSchemaIssues(json);
  if (issues.length > 0) throw new ConfigFileError(issues, file);
  const raw = json as FileJson;
  const balancer: BalancerConfig = {
    listeners: raw.listeners.map((l) => ({ ...l })),
    pools: raw.pools.map((p) => {
      const { health, ...rest } = p;
      const pool: PoolConfig = { ...rest, backends: p.backends.map((b): BackendConfig => ({ ...b })) };
      if (health) {
        const { expectPattern, expect, ...h } = health;
        if (expect !== undefined && expectPattern !== undefined) {
          throw new ConfigFileError(
            [
              {
                pointer: `/pools/${raw.pools.indexOf(p)}/health`,
                message: 'has both expect and expectPattern; use one',
              },
            ],
            file,
          );
        }
        pool.health = { ...h, ...(expect !== undefined ? { expect } : {}) };
        if (expectPattern !== undefined) {
          try {
            pool.health.expect = new RegExp(expectPattern);
          } catch {
            throw new ConfigFileError(
              [
                {
                  pointer: `/pools/${raw.pools.indexOf(p)}/health/expectPattern`,
                  message: `must be a valid regular expression (got ${JSON.stringify(expectPattern)})`,
                },
              ],
              file,
            );
          }
        }
      }
      return pool;
    }),
  };
  if (raw.timeouts) balancer.timeouts = { ...raw.timeouts };
  if (raw.maxHeldBytes !== undefined) balancer.maxHeldBytes = raw.maxHeldBytes;
  checkSemantics(balancer, file);
  return {
    balancer,
    admin: raw.admin ? adminOf(raw.admin, file) : undefined,
    workers: raw.workers ?? DEFAULT_WORKERS,
    logLevel: raw.log?.level ?? DEFAULT_LOG_LEVEL,
  };
}

/** TCP (`port`, optional `host`) or a Unix socket (`path`), never both; checked here, as ajv's strict mode
 * rejects `required` of properties a subschema does not define. */
function adminOf(a: NonNullable<FileJson['admin']>, file: string | undefined): AdminConfig {
  if (a.path !== undefined && (a.port !== undefined || a.host !== undefined)) {
    throw new ConfigFileError([{ pointer: '/admin', message: 'has both path and host/port; use one' }], file);
  }
  if (a.token !== undefined && !/^[\x21-\x7e]+$/.test(a.token)) {
    throw new ConfigFileError(
      [{ pointer: '/admin/token', message: 'must be visible ASCII (no spaces)' }],
      file,
    );
  }
  if (a.path === undefined && a.port === undefined) {
    throw new ConfigFileError([{ pointer: '/admin/port', message: 'is required (or path)' }], file);
  }
  const where =
    a.path !== undefined ? { path: a.path } : { host: a.host ?? DEFAULT_ADMIN_HOST, port: a.port ?? 0 };
  return a.token === undefined ? where : { ...where, token: a.token };
}

/** Runs the data plane's own checks and reports them in the file's pointer form. */
export function checkSemantics(balancer: BalancerConfig, file?: string): void {
  try {
    resolveConfig(balancer);
  } catch (err) {
    if (err instanceof BalancerConfigError) throw new ConfigFileError(err.issues, file);
    throw err;
  }
}

/** Parses JSON text; a syntax error is reported as an issue at the root with the parser's position. */
export function parseBalancerConfigText(text: string, file?: string): BalancerFileConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(
      [{ pointer: '', message: `is not valid JSON: ${(err as Error).message}` }],
      file,
    );
  }
  return parseBalancerConfig(json, file);
}

/** `.yaml`/`.yml` files are YAML (for comments); anything else is JSON, as before. */
export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/**
 * Reads a config file without validating it (the CLI merges its flags in first). The extension picks the
 * parser; both produce the same JSON data model, so both go through the one schema.
 */
export async function readBalancerConfigJson(path: string): Promise<unknown> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw new ConfigFileError([{ pointer: '', message: `cannot be read: ${(err as Error).message}` }], path);
  }
  if (buf.length > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigFileError(
      [{ pointer: '', message: `is ${buf.length} bytes, over the ${MAX_CONFIG_FILE_BYTES}-byte limit` }],
      path,
    );
  }
  const text = buf.toString('utf8');
  if (isYamlPath(path)) {
    // YAML 1.2 core schema (the package's default): `no`/`off` stay strings, not booleans, so a YAML file
    // means what the same JSON would. Duplicate keys and anchors bombs are errors (uniqueKeys, maxAliasCount).
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigFileError(
        doc.errors.map((e) => ({ pointer: '', message: `is not valid YAML: ${e.message}` })),
        path,
      );
    }
    try {
      return doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
    } catch (err) {
      throw new ConfigFileError(
        [{ pointer: '', message: `is not valid YAML: ${(err as Error).message}` }],
        path,
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(
      [{ pointer: '', message: `is not valid JSON: ${(err as Error).message}` }],
      path,
    );
  }
}

/** Reads and validates a config file. Unreadable, oversized or non-JSON files are config errors too. */
export async function loadBalancerConfigFile(path: string): Promise<BalancerFileConfig> {
  return parseBalancerConfig(await readBalancerConfigJson(path), path);
}

/** Validates one backend object (the admin API's `POST /pools/:pool/backends` body) with the file's rules. */
export function parseBackendJson(json: unknown): BackendConfig {
  const issues = backendSchemaIssues(json);
  if (issues.length > 0) throw new ConfigFileError(issues);
  return { ...(json as BackendConfig) };
}

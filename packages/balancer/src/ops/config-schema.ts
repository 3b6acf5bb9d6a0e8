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
 * data plane's `resolveConfig`; its dotted field paths are converted to the same pointer form here.
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type {
  BackendConfig,
  BalancerConfig,
  HealthConfig,
  ListenerConfig,
  PoolConfig,
  TimeoutsConfig,
} from '../config.js';
import { POLICY_NAMES, resolveConfig } from '../config.js';
import { BalancerConfigError } from '../errors.js';

/** A config file larger than this is a mistake (a log, a binary), not a balancer config. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Problems listed in one error message; past this the list is cut with a count. */
export const MAX_REPORTED_ISSUES = 20;

/** Where the admin HTTP API listens. */
export interface AdminConfig {
  host: string;
  port: number;
}

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

/** One schema violation: a JSON pointer (RFC 6901; `` = the root) and why. */
export interface ConfigIssue {
  readonly pointer: string;
  readonly message: string;
}

/**
 * A config file (or CLI-built config) that does not validate. `code` is `IOLAB_BALANCER_CONFIG_INVALID`
 * like every config error; `field` is the first issue's pointer; `issues` lists them all.
 */
// TODO(data-plane): this class belongs in errors.ts next to BalancerConfigError; kept here to not edit a
// file another helper owns while it is being written.
export class ConfigFileError extends BalancerConfigError {
  readonly issues: readonly ConfigIssue[];
  readonly file: string | undefined;
  constructor(issues: readonly ConfigIssue[], file?: string) {
    const first = issues[0] ?? { pointer: '', message: 'is invalid' };
    super(first.pointer === '' ? '(root)' : first.pointer, first.message);
    this.issues = issues;
    this.file = file;
    const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((i) => `  ${i.pointer || '(root)'}: ${i.message}`);
    if (issues.length > MAX_REPORTED_ISSUES)
      shown.push(`  … and ${issues.length - MAX_REPORTED_ISSUES} more`);
    this.message = `invalid balancer config${file ? ` ${file}` : ''}:\n${shown.join('\n')}`;
  }
}

const port = (min: number) => ({ type: 'integer', minimum: min, maximum: 65535 }) as const;
const nonNegInt = { type: 'integer', minimum: 0 } as const;
const posInt = { type: 'integer', minimum: 1 } as const;
const host = { type: 'string', minLength: 1, maxLength: 255 } as const;
const name = { type: 'string', minLength: 1, maxLength: 200 } as const;

const timeoutsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    connect: nonNegInt,
    idle: nonNegInt,
    clientFin: nonNegInt,
    queue: nonNegInt,
    proxyHeader: nonNegInt,
  },
} as const;

/** JSON Schema (draft-07) of the config file. Exported so editors and other tools can use it too. */
export const BALANCER_CONFIG_SCHEMA = {
  $id: 'https://iolab.dev/schemas/balancer-config.json',
  type: 'object',
  additionalProperties: false,
  required: ['listeners', 'pools'],
  properties: {
    $schema: { type: 'string' },
    listeners: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['port', 'pool'],
        properties: {
          name,
          host,
          port: port(0),
          pool: name,
          mode: { enum: ['proxy', 'director'] },
          acceptProxyProtocol: { type: 'boolean' },
          timeouts: timeoutsSchema,
          backlog: posInt,
        },
      },
    },
    pools: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'backends'],
        properties: {
          name,
          policy: { enum: [...POLICY_NAMES] },
          retries: nonNegInt,
          maxQueue: nonNegInt,
          backends: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['host', 'port'],
              properties: {
                id: name,
                host,
                port: port(1),
                weight: nonNegInt,
                backup: { type: 'boolean' },
                maxconn: nonNegInt,
                proxyProtocol: { enum: ['v1', 'v2'] },
              },
            },
          },
          health: {
            type: 'object',
            additionalProperties: false,
            properties: {
              enabled: { type: 'boolean' },
              interval: posInt,
              rise: posInt,
              fall: posInt,
              timeout: posInt,
              send: { type: 'string', maxLength: 4096 },
              expect: { type: 'string', minLength: 1, maxLength: 4096 },
              expectPattern: { type: 'string', minLength: 1, maxLength: 4096, format: 'regex' },
            },
          },
        },
      },
    },
    timeouts: timeoutsSchema,
    maxHeldBytes: posInt,
    admin: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: { host, port: port(0) },
    },
    workers: { type: 'integer', minimum: 1, maximum: MAX_WORKERS },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: [...LOG_LEVELS] } },
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
  admin?: { host?: string; port: number };
  workers?: number;
  log?: { level?: LogLevel };
}

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ strict: true, allErrors: true, verbose: true });
    // Only `regex` is used; checking it with the engine that will run it beats pulling in ajv-formats.
    ajv.addFormat('regex', {
      validate: (s: string) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      },
    });
    validator = ajv.compile(BALANCER_CONFIG_SCHEMA);
  }
  return validator;
}

function describe(e: ErrorObject): ConfigIssue {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return {
        pointer: `${e.instancePath}/${String(params.additionalProperty)}`,
        message: 'is not a known field',
      };
    case 'required':
      return { pointer: `${e.instancePath}/${String(params.missingProperty)}`, message: 'is required' };
    case 'enum':
      return {
        pointer: e.instancePath,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(e.data)})`,
      };
    case 'format':
      return {
        pointer: e.instancePath,
        message: `must be a valid regular expression (got ${JSON.stringify(e.data)})`,
      };
    default:
      return {
        pointer: e.instancePath,
        message: `${e.message ?? 'is invalid'} (got ${JSON.stringify(e.data)})`,
      };
  }
}

/** `pools[0].backends[2].port` (the data plane's field form) → `/pools/0/backends/2/port`. */
function dottedToPointer(field: string): string {
  if (field === '(root)') return '';
  return `/${field
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)
    .join('/')}`;
}

/**
 * Validates parsed JSON and returns the typed config. Throws {@link ConfigFileError} listing every problem
 * (schema violations first; if there are none, what the data plane's own checks found).
 */
export function parseBalancerConfig(json: unknown, file?: string): BalancerFileConfig {
  const validate = getValidator();
  if (!validate(json)) {
    const seen = new Set<string>();
    const issues = (validate.errors ?? []).map(describe).filter((i) => {
      const key = `${i.pointer}\u0000${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    throw new ConfigFileError(issues, file);
  }
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
        if (expectPattern !== undefined) pool.health.expect = new RegExp(expectPattern);
      }
      return pool;
    }),
  };
  if (raw.timeouts) balancer.timeouts = { ...raw.timeouts };
  if (raw.maxHeldBytes !== undefined) balancer.maxHeldBytes = raw.maxHeldBytes;
  checkSemantics(balancer, file);
  return {
    balancer,
    admin: raw.admin ? { host: raw.admin.host ?? DEFAULT_ADMIN_HOST, port: raw.admin.port } : undefined,
    workers: raw.workers ?? DEFAULT_WORKERS,
    logLevel: raw.log?.level ?? DEFAULT_LOG_LEVEL,
  };
}

/** Runs the data plane's own checks and reports them in the file's pointer form. */
export function checkSemantics(balancer: BalancerConfig, file?: string): void {
  try {
    resolveConfig(balancer);
  } catch (err) {
    if (err instanceof BalancerConfigError) {
      throw new ConfigFileError([{ pointer: dottedToPointer(err.field), message: err.reason }], file);
    }
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

/** Reads a config file as JSON without validating it (the CLI merges its flags in first). */
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
  try {
    return JSON.parse(buf.toString('utf8'));
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

let backendValidator: ValidateFunction | undefined;
/** Validates one backend object (the admin API's `POST /pools/:pool/backends` body) with the file's rules. */
export function parseBackendJson(json: unknown): BackendConfig {
  if (!backendValidator) {
    const ajv = new Ajv({ strict: true, allErrors: true, verbose: true });
    backendValidator = ajv.compile(BALANCER_CONFIG_SCHEMA.properties.pools.items.properties.backends.items);
  }
  if (!backendValidator(json)) throw new ConfigFileError((backendValidator.errors ?? []).map(describe));
  return { ...(json as BackendConfig) };
}

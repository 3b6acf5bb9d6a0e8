/**
 * The shape of reports/results.json, as a JSON Schema checked with ajv before the file is written, so a run
 * never leaves a file that the next run's comparison (or a user's script) cannot read.
 */

import type { Verdict } from '@iolab/harness';
import { Ajv, type ErrorObject } from 'ajv';
import { InvalidResultsError } from './errors.js';

/** Bumped when a field changes meaning; the comparison with the last run skips files of another version. */
export const RESULTS_SCHEMA_VERSION = 1;

export type SectionStatus = 'ok' | 'failed' | 'skipped';

export interface SectionRecord {
  readonly id: string;
  readonly title: string;
  readonly status: SectionStatus;
  /** Why the section failed or was skipped. */
  readonly error?: string;
  readonly durationSeconds: number;
  readonly conclusions: readonly string[];
  readonly commands: readonly string[];
  readonly results: unknown;
}

export interface EnvironmentRecord {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly kernel: string;
  readonly platform: string;
  readonly node: string;
  readonly packages: Readonly<Record<string, string>>;
  readonly tools: Readonly<Record<string, string | null>>;
  readonly ulimitNoFile: { readonly soft: string; readonly hard: string };
  readonly pinning: string;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
  readonly hostname: string;
  readonly timestamp: string;
}

export interface BenchResults {
  readonly schemaVersion: number;
  readonly quick: boolean;
  readonly aborted: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly commandLine: string;
  readonly environment: EnvironmentRecord;
  readonly sections: readonly SectionRecord[];
  /** Every comparison the report states, across sections (issue 12's exact shape). */
  readonly verdicts: readonly Verdict[];
}

const stringArray = { type: 'array', items: { type: 'string' } } as const;

export const RESULTS_JSON_SCHEMA = {
  $id: 'https://iolab.dev/schemas/results-v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'schemaVersion',
    'quick',
    'aborted',
    'startedAt',
    'finishedAt',
    'durationSeconds',
    'commandLine',
    'environment',
    'sections',
  ],
  properties: {
    schemaVersion: { const: RESULTS_SCHEMA_VERSION },
    quick: { type: 'boolean' },
    aborted: { type: 'boolean' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    durationSeconds: { type: 'number', minimum: 0 },
    commandLine: { type: 'string' },
    environment: {
      type: 'object',
      required: [
        'cpuModel',
        'cores',
        'memoryBytes',
        'kernel',
        'platform',
        'node',
        'packages',
        'tools',
        'ulimitNoFile',
        'pinning',
        'gitCommit',
        'gitDirty',
        'hostname',
        'timestamp',
      ],
      properties: {
        cpuModel: { type: 'string' },
        cores: { type: 'integer', minimum: 1 },
        memoryBytes: { type: 'number', minimum: 0 },
        kernel: { type: 'string' },
        platform: { type: 'string' },
        node: { type: 'string' },
        packages: { type: 'object', additionalProperties: { type: 'string' } },
        tools: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
        ulimitNoFile: {
          type: 'object',
          required: ['soft', 'hard'],
          properties: { soft: { type: 'string' }, hard: { type: 'string' } },
        },
        pinning: { type: 'string' },
        gitCommit: { type: ['string', 'null'] },
        gitDirty: { type: ['boolean', 'null'] },
        hostname: { type: 'string' },
        timestamp: { type: 'string', format: 'date-time' },
      },
    },
    verdicts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'experiment',
          'workload',
          'connections',
          'winner',
          'runnerUp',
          'ratio',
          'ci95',
          'significant',
        ],
        properties: {
          experiment: { type: 'string' },
          workload: { type: 'string' },
          connections: { type: 'integer', minimum: 0 },
          winner: { type: ['string', 'null'] },
          runnerUp: { type: 'string' },
          ratio: { type: 'number' },
          ci95: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
          significant: { type: 'boolean' },
        },
      },
    },
    sections: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'status', 'durationSeconds', 'conclusions', 'commands', 'results'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
          title: { type: 'string', minLength: 1 },
          status: { enum: ['ok', 'failed', 'skipped'] },
          error: { type: 'string' },
          durationSeconds: { type: 'number', minimum: 0 },
          conclusions: stringArray,
          commands: stringArray,
          results: {},
        },
        // A failed or skipped section must say why.
        anyOf: [{ properties: { status: { const: 'ok' } } }, { required: ['error'] }],
      },
    },
  },
} as const;

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator(): ReturnType<Ajv['compile']> {
  if (!compiled) {
    // ajv-formats is not installed; the one format we use is checked by a small regex of our own.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addFormat('date-time', ISO_DATE_TIME);
    compiled = ajv.compile(RESULTS_JSON_SCHEMA);
  }
  return compiled;
}

function describe(error: ErrorObject): string {
  return `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`;
}

/** Problems with `value` as a results file (empty when it is valid). */
export function resultsProblems(value: unknown): string[] {
  const validate = validator();
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
}

/**
 * Checks `value` against {@link RESULTS_JSON_SCHEMA}.
 *
 * @throws {InvalidResultsError} listing every failing path
 */
export function assertValidResults(value: unknown): asserts value is BenchResults {
  const problems = resultsProblems(value);
  if (problems.length > 0) throw new InvalidResultsError(problems);
}

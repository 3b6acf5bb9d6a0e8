/**
 * The one validator: the config JSON schema (defined in `ops/config-schema.ts`, compiled ahead of time into
 * `generated/config-validator.ts` so nothing here loads ajv) checks config files and `createBalancer()`
 * input alike, and its errors become one message style: a JSON pointer and why, every problem at once.
 */
import type { ConfigIssue } from './errors.js';
import { validateBackend, validateConfig } from './generated/config-validator.js';

/** What the generated validators report (ajv's `ErrorObject`, the fields used here). */
interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
}
type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

function describe(e: SchemaError): ConfigIssue {
  const params = e.params;
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
    case 'pattern':
      // The only patterns in the schema are durations.
      return {
        pointer: e.instancePath,
        message: `must be a duration like 250ms, 5s, 2m, 1h or a number of milliseconds (got ${JSON.stringify(e.data)})`,
      };
    default:
      return {
        pointer: e.instancePath,
        message: `${e.message ?? 'is invalid'} (got ${JSON.stringify(e.data)})`,
      };
  }
}

function run(validate: Validator, json: unknown): ConfigIssue[] {
  if (validate(json)) return [];
  const seen = new Set<string>();
  return (validate.errors ?? []).map(describe).filter((i) => {
    const key = `${i.pointer}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Schema problems of a whole config document (`[]` = valid as far as the schema goes). */
export function configSchemaIssues(json: unknown): ConfigIssue[] {
  return run(validateConfig as Validator, json);
}

/** Schema problems of one backend object (the admin API's add-backend body, `addBackend()`). */
export function backendSchemaIssues(json: unknown): ConfigIssue[] {
  return run(validateBackend as Validator, json);
}

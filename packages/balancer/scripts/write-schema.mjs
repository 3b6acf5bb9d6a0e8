// Writes the config file's JSON Schema (the one the command validates with) to schema/, so it ships in the
// package and `$schema` in a config gives editors completion and each field's description.
import { mkdirSync, writeFileSync } from 'node:fs';
import { BALANCER_CONFIG_SCHEMA } from '../dist/ops/config-schema.js';

const dir = new URL('../schema/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(
  new URL('balancer-config.schema.json', dir),
  `${JSON.stringify(BALANCER_CONFIG_SCHEMA, null, 2)}\n`,
);

// The root entry point: a deliberate surface, no ops dependencies, and one validator with one message style.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBalancer } from './balancer.js';
import type { BalancerConfig } from './config.js';
import { BalancerConfigError } from './errors.js';
import { ConfigFileError, parseBalancerConfig } from './ops/config-schema.js';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Every module specifier imported (not type-only) by `file` and, transitively, by the local files it imports. */
function importGraph(file: string, seen = new Set<string>(), bare = new Set<string>()): Set<string> {
  if (seen.has(file)) return bare;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) importGraph(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen, bare);
    else bare.add(spec);
  }
  return bare;
}

describe('the @iolab/balancer root', () => {
  it('loads nothing but Node built-ins: no pino, prom-client, ajv or yaml for createBalancer users', () => {
    const bare = [...importGraph(join(SRC, 'index.ts'))];
    expect(bare.filter((s) => !s.startsWith('node:'))).toEqual([]);
    // The ops entry point is where they are.
    expect([...importGraph(join(SRC, 'ops/index.ts'))]).toEqual(
      expect.arrayContaining(['pino', 'prom-client', 'yaml']),
    );
  });

  it('exports at most 40 names, listed one by one', async () => {
    const text = readFileSync(join(SRC, 'index.ts'), 'utf8');
    expect(text).not.toMatch(/^export \*/m);
    const names = new Set<string>();
    for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
      for (const n of m[1]!.split(',')) if (n.trim()) names.add(n.trim().replace(/^type\s+/, ''));
    }
    expect(names.size).toBeLessThanOrEqual(40);
    const runtime = Object.keys(await import('./index.js'));
    expect(runtime.every((n) => names.has(n))).toBe(true);
  });

  it('createBalancer input is checked by the config schema, with the same pointers and messages as a file', () => {
    const bad = {
      listeners: [{ port: 70000, pool: 'p' }],
      pools: [
        {
          name: 'p',
          policy: 'fastest',
          backends: [{ host: 'a', port: 1, weight: -1 }],
          health: { interval: '5 s' },
        },
      ],
      timeouts: { connect: '5x' },
    };
    let fromFile: readonly unknown[] = [];
    try {
      parseBalancerConfig(bad);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigFileError);
      fromFile = (err as ConfigFileError).issues;
    }
    let fromLibrary: readonly unknown[] = [];
    try {
      createBalancer(bad as unknown as BalancerConfig);
    } catch (err) {
      expect(err).toBeInstanceOf(BalancerConfigError);
      expect((err as BalancerConfigError).code).toBe('IOLAB_BALANCER_CONFIG_INVALID');
      fromLibrary = (err as BalancerConfigError).issues;
    }
    expect(fromFile.length).toBe(5);
    expect(fromLibrary).toEqual(fromFile);
    expect(fromLibrary).toContainEqual({
      pointer: '/listeners/0/port',
      message: 'must be <= 65535 (got 70000)',
    });
  });

  it('accepts what only a program can pass (a policy function, bytes, a RegExp) and rejects file-only keys', () => {
    const ok: BalancerConfig = {
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          policy: (_ctx, backends) => backends[0],
          backends: [{ host: '127.0.0.1', port: 9 }],
          health: { send: new Uint8Array([1]), expect: /ok/ },
        },
      ],
    };
    expect(() => createBalancer(ok)).not.toThrow();
    expect(() => createBalancer({ ...ok, workers: 2 } as BalancerConfig)).toThrow(/\/workers.*config file/);
  });
});

// Durations with units, YAML beside JSON, the shipped schema, and --check rejecting what start would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config-resolve.js';
import { parseDuration } from '../duration.js';
import { resolveBalanceArgs, UsageError } from './command-flags.js';
import { checkAddresses, effectiveConfig } from './config-check.js';
import {
  BALANCER_CONFIG_SCHEMA,
  ConfigFileError,
  loadBalancerConfigFile,
  parseBalancerConfig,
} from './config-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-config-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    return (err as ConfigFileError).issues.map((i) => `${i.pointer}: ${i.message}`);
  }
  throw new Error('expected a ConfigFileError');
}

describe('durations', () => {
  it('parses units like HAProxy and nginx; a bare number is milliseconds', () => {
    const ms = (v: number | string) => (parseDuration(v) as { ms: number }).ms;
    expect(ms(250)).toBe(250);
    expect(ms('250')).toBe(250);
    expect(ms('250ms')).toBe(250);
    expect(ms('5s')).toBe(5000);
    expect(ms('1.5s')).toBe(1500);
    expect(ms('2m')).toBe(120_000);
    expect(ms('1h')).toBe(3_600_000);
    expect(ms('1m30s')).toBe(90_000);
    expect(ms('0')).toBe(0);
    for (const bad of ['5x', '-1s', 's', '', '5 s', '0.5ms', '30d', 1.5, -1]) {
      expect(parseDuration(bad), JSON.stringify(bad)).toHaveProperty('reason');
    }
  });

  it('flags and files accept them, and the data plane gets milliseconds', async () => {
    const { config } = await resolveBalanceArgs([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      '127.0.0.1:9',
      '--connect-timeout',
      '5s',
      '--idle-timeout',
      '2m',
      '--health-interval',
      '500ms',
      '--queue-timeout',
      '1500',
    ]);
    const r = resolveConfig(config.balancer);
    expect(r.listeners[0]!.timeouts).toMatchObject({ connect: 5000, idle: 120_000, queue: 1500 });
    expect(r.pools[0]!.health.interval).toBe(500);
    await expect(
      resolveBalanceArgs(['--listen', ':0', '--backend', '127.0.0.1:9', '--connect-timeout', '5 seconds']),
    ).rejects.toThrow(UsageError);
  });

  it('a bad duration in a file is reported with its JSON pointer', () => {
    const issues = issuesOf(() =>
      parseBalancerConfig({
        listeners: [{ port: 0, pool: 'p', timeouts: { idle: '10 minutes' } }],
        pools: [{ name: 'p', backends: [], health: { interval: '0s' } }],
      }),
    );
    expect(issues.join('\n')).toMatch(/\/listeners\/0\/timeouts\/idle: must be a duration like 250ms/);
  });
});

describe('YAML config files', () => {
  it('are chosen by extension, may carry comments, and mean the same as the JSON', async () => {
    const yamlPath = join(dir, 'lb.yaml');
    writeFileSync(
      yamlPath,
      [
        '# two backends, weighted',
        'listeners:',
        '  - { port: 0, pool: web, host: "*" } # every IPv4 address',
        'pools:',
        '  - name: web',
        '    backends:',
        '      - { host: 127.0.0.1, port: 9001, weight: 3 }',
        '      - { host: 127.0.0.1, port: 9002 }',
        'timeouts: { connect: 5s }',
        '',
      ].join('\n'),
    );
    const jsonPath = join(dir, 'lb.json');
    writeFileSync(
      jsonPath,
      JSON.stringify({
        listeners: [{ port: 0, pool: 'web', host: '*' }],
        pools: [
          {
            name: 'web',
            backends: [
              { host: '127.0.0.1', port: 9001, weight: 3 },
              { host: '127.0.0.1', port: 9002 },
            ],
          },
        ],
        timeouts: { connect: '5s' },
      }),
    );
    expect(await loadBalancerConfigFile(yamlPath)).toEqual(await loadBalancerConfigFile(jsonPath));
  });

  it('YAML syntax errors, duplicate keys and schema errors are config errors', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'listeners:\n  - port: 0\n    port: 1\n    pool: p\npools: []\n');
    await expect(loadBalancerConfigFile(bad)).rejects.toThrow(
      /not valid YAML.*[Dd]uplicate|[Mm]ap keys must be unique/,
    );
    const schemaBad = join(dir, 'schema-bad.yaml');
    writeFileSync(schemaBad, 'listeners: [{ port: 70000, pool: p }]\npools: [{ name: p, backends: [] }]\n');
    await expect(loadBalancerConfigFile(schemaBad)).rejects.toThrow(/\/listeners\/0\/port: must be <= 65535/);
  });
});

describe('the shipped JSON schema', () => {
  it('has a description on every property, so editors explain each field', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.properties) {
        for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if (typeof v.description !== 'string' || v.description.length < 10) missing.push(`${path}/${k}`);
          walk(v, `${path}/${k}`);
        }
      }
      if (n.items) walk(n.items, `${path}/items`);
    };
    walk(BALANCER_CONFIG_SCHEMA, '');
    expect(missing).toEqual([]);
  });

  it('schema/balancer-config.schema.json is the schema the command validates with (run the build if not)', () => {
    const shipped = JSON.parse(
      readFileSync(new URL('../../schema/balancer-config.schema.json', import.meta.url), 'utf8'),
    );
    expect(shipped).toEqual(JSON.parse(JSON.stringify(BALANCER_CONFIG_SCHEMA)));
  });

  it('src/generated/config-validator.ts is what the schema compiles to now (npm run generate if not)', () => {
    const script = fileURLToPath(new URL('../../scripts/generate-validator.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('every example in examples/ validates', async () => {
    const examples = new URL('../../examples/', import.meta.url);
    const files = readdirSync(examples).filter((f) => /\.ya?ml$|\.json$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) await loadBalancerConfigFile(new URL(f, examples).pathname);
  });
});

describe('--check rejects what start would reject', () => {
  it('a listen host that does not resolve', async () => {
    const { config } = await resolveBalanceArgs([
      '--listen',
      'no-such-host.invalid:0',
      '--backend',
      '127.0.0.1:9',
    ]);
    await expect(checkAddresses(config)).rejects.toThrow(/\/listeners\/0\/host: does not resolve/);
  });

  it('accepts *:port, 0.0.0.0:port and [::]:port', async () => {
    for (const listen of ['*:0', '0.0.0.0:0', '[::]:0']) {
      const { config } = await resolveBalanceArgs(['--listen', listen, '--backend', '127.0.0.1:9']);
      await checkAddresses(config);
      expect(resolveConfig(config.balancer).listeners[0]!.host).toBe(listen === '[::]:0' ? '::' : '0.0.0.0');
    }
  });

  it('--print output is itself a valid config that resolves to the same thing', async () => {
    const { config } = await resolveBalanceArgs([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      '127.0.0.1:9,weight=3',
      '--backend',
      '127.0.0.1:10,backup',
      '--connect-timeout',
      '5s',
      '--health-expect',
      'OK',
    ]);
    const printed = effectiveConfig(config);
    const again = parseBalancerConfig(JSON.parse(JSON.stringify(printed)));
    expect(resolveConfig(again.balancer)).toEqual(resolveConfig(config.balancer));
    expect(printed).toMatchObject({
      pools: [{ policy: 'round-robin', backends: [{ weight: 3 }, { backup: true }] }],
    });
  });
});

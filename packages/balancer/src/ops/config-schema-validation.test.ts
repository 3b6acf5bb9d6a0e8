import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigFileError,
  loadBalancerConfigFile,
  MAX_CONFIG_FILE_BYTES,
  parseBackendJson,
  parseBalancerConfig,
} from './config-schema.js';

const good = () => ({
  listeners: [{ port: 8080, pool: 'web' }],
  pools: [{ name: 'web', backends: [{ host: '10.0.0.2', port: 80 }] }],
});

function issuesOf(json: unknown): { pointer: string; message: string }[] {
  try {
    parseBalancerConfig(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    const e = err as ConfigFileError;
    expect(e.code).toBe('IOLAB_BALANCER_CONFIG_INVALID');
    return [...e.issues];
  }
  throw new Error('expected the config to be rejected');
}

describe('config schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iolab-config-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a minimal config and fills the ops defaults', () => {
    const cfg = parseBalancerConfig(good());
    expect(cfg.workers).toBe(1);
    expect(cfg.logLevel).toBe('info');
    expect(cfg.admin).toBeUndefined();
    expect(cfg.balancer.pools[0]!.backends[0]).toEqual({ host: '10.0.0.2', port: 80 });
  });

  it('turns the full file form into the typed config (expectPattern → RegExp, admin host default)', () => {
    const cfg = parseBalancerConfig({
      ...good(),
      pools: [
        {
          name: 'web',
          policy: 'weighted',
          retries: 2,
          backends: [
            { host: 'a', port: 1, weight: 3, backup: true, proxyProtocol: 'v2', maxconn: 10, id: 'one' },
          ],
          health: { interval: 500, rise: 1, fall: 2, send: 'PING\r\n', expectPattern: '^\\+PONG' },
        },
      ],
      timeouts: { connect: 100, idle: 0 },
      admin: { port: 9000 },
      workers: 2,
      log: { level: 'warn' },
    });
    expect(cfg.admin).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(cfg.workers).toBe(2);
    expect(cfg.logLevel).toBe('warn');
    const health = cfg.balancer.pools[0]!.health!;
    expect(health.expect).toBeInstanceOf(RegExp);
    expect((health.expect as RegExp).test('+PONG')).toBe(true);
    expect(cfg.balancer.timeouts).toEqual({ connect: 100, idle: 0 });
  });

  it('reports every schema problem at once, each with a JSON pointer and why', () => {
    const issues = issuesOf({
      ...good(),
      pools: [
        {
          name: 'web',
          policy: 'fastest',
          backends: [{ host: 'a', port: 70000 }, { port: 80 }],
          health: { rise: 0, expectPattern: '(' },
        },
      ],
      bogus: true,
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { pointer: '/bogus', message: 'is not a known field' },
        expect.objectContaining({
          pointer: '/pools/0/policy',
          message: expect.stringContaining('"round-robin"'),
        }),
        { pointer: '/pools/0/backends/0/port', message: 'must be <= 65535 (got 70000)' },
        { pointer: '/pools/0/backends/1/host', message: 'is required' },
        { pointer: '/pools/0/health/rise', message: 'must be >= 1 (got 0)' },
        expect.objectContaining({
          pointer: '/pools/0/health/expectPattern',
          message: expect.stringContaining('regular expression'),
        }),
      ]),
    );
    expect(issues).toHaveLength(6);
  });

  it('rejects wrong types and missing sections with the field named', () => {
    expect(issuesOf({ pools: [] })).toEqual(
      expect.arrayContaining([
        { pointer: '/listeners', message: 'is required' },
        { pointer: '/pools', message: 'must NOT have fewer than 1 items (got [])' },
      ]),
    );
    expect(issuesOf({ ...good(), workers: '2' })).toEqual([
      { pointer: '/workers', message: 'must be integer (got "2")' },
    ]);
    expect(issuesOf({ ...good(), listeners: [{ port: 8080, pool: 'web', mode: 'nat' }] })[0]).toMatchObject({
      pointer: '/listeners/0/mode',
    });
    expect(issuesOf({ ...good(), log: { level: 'loud' } })[0]!.pointer).toBe('/log/level');
  });

  it("reports the data plane's own checks (unknown pool, duplicate backend) in the same pointer form", () => {
    expect(issuesOf({ ...good(), listeners: [{ port: 1, pool: 'nope' }] })).toEqual([
      { pointer: '/listeners/0/pool', message: 'names no pool: "nope"' },
    ]);
    const dup = issuesOf({
      ...good(),
      pools: [
        {
          name: 'web',
          backends: [
            { host: 'a', port: 1 },
            { host: 'a', port: 1 },
          ],
        },
      ],
    });
    expect(dup[0]!.pointer).toBe('/pools/0/backends/1/id');
    expect(dup[0]!.message).toContain('duplicate');
  });

  it('names the file, and the problem, for unreadable, non-JSON and oversized files', async () => {
    const missing = join(dir, 'missing.json');
    await expect(loadBalancerConfigFile(missing)).rejects.toThrow(/missing\.json[\s\S]*cannot be read/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "listeners": [ }');
    await expect(loadBalancerConfigFile(broken)).rejects.toThrow(/broken\.json[\s\S]*not valid JSON/);
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, 0x20));
    await expect(loadBalancerConfigFile(huge)).rejects.toThrow(/over the \d+-byte limit/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...good(), admin: { host: '127.0.0.1' } }));
    await expect(loadBalancerConfigFile(bad)).rejects.toThrow(/bad\.json:\n {2}\/admin\/port: is required/);
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify(good()));
    await expect(loadBalancerConfigFile(ok)).resolves.toMatchObject({ workers: 1 });
  });

  it('validates a single backend (admin API body) with the same rules', () => {
    expect(parseBackendJson({ host: 'h', port: 1, weight: 2 })).toEqual({ host: 'h', port: 1, weight: 2 });
    expect(() => parseBackendJson({ host: 'h', port: 0 })).toThrow(/\/port: must be >= 1/);
    expect(() => parseBackendJson({ host: 'h', port: 1, colour: 'red' })).toThrow(
      /\/colour: is not a known field/,
    );
  });
});

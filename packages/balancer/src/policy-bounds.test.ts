/**
 * Weights are bounded (0..MAX_WEIGHT, HAProxy's 256) wherever they enter — config, schema, setWeight — and
 * policy state stays finite and small whatever a caller offers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBalancer } from './balancer.js';
import { MAX_WEIGHT } from './config.js';
import { BalancerConfigError } from './errors.js';
import { ConfigFileError, parseBackendJson, parseBalancerConfig } from './ops/config-schema.js';
import { sourceHash } from './policies/source-hash.js';
import { weighted } from './policies/weighted.js';
import type { BackendView, PickContext } from './policy.js';
import { cleanup, countBy, startBackend, startBalancer, whoServes } from './test-support.js';

afterEach(cleanup);

const ctx = (clientAddress = '10.0.0.1'): PickContext => ({
  clientAddress,
  clientPort: 1,
  listener: 'l',
  pool: 'p',
  attempt: 0,
});
const view = (id: string, weight: number): BackendView => ({
  id,
  host: '127.0.0.1',
  port: 1,
  weight,
  backup: false,
  active: 0,
  total: 0,
});

describe('weights are capped', () => {
  it('a weight over the cap is refused with a clear error by the config, the schema and setWeight', async () => {
    expect(MAX_WEIGHT).toBe(256);
    const cfg = (weight: number) => ({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [{ name: 'p', backends: [{ host: '127.0.0.1', port: 1, weight }] }],
    });
    expect(() => createBalancer(cfg(MAX_WEIGHT))).not.toThrow();
    expect(() => createBalancer(cfg(MAX_WEIGHT + 1))).toThrow(
      /\/pools\/0\/backends\/0\/weight must be <= 256/,
    );
    expect(() => parseBalancerConfig(cfg(100_000))).toThrow(ConfigFileError);
    try {
      parseBalancerConfig(cfg(100_000));
    } catch (err) {
      expect((err as ConfigFileError).issues[0]).toMatchObject({ pointer: '/pools/0/backends/0/weight' });
      expect((err as Error).message).toMatch(/256/);
    }
    expect(() => parseBackendJson({ host: 'h', port: 1, weight: 1e308 })).toThrow(ConfigFileError);

    const a = await startBackend('a');
    const { lb } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        { name: 'p', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
      ],
    });
    for (const bad of [257, 100_000, 3_000_000, 1e308, Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5]) {
      expect(() => lb.setWeight('p', 'a', bad)).toThrow(BalancerConfigError);
    }
    expect(lb.stats().pools[0]!.backends[0]!.weight).toBe(1);
  });

  it('backend hosts must be IP literals or RFC 1123 names', () => {
    const cfg = (host: string) => ({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [{ name: 'p', backends: [{ host, port: 1 }] }],
    });
    for (const ok of ['127.0.0.1', '::1', 'fe80::1', 'localhost', 'db-1.internal.example', 'a.b.c.']) {
      expect(() => createBalancer(cfg(ok)), ok).not.toThrow();
    }
    for (const bad of [
      '127.0.0.1\r\nX',
      'a b',
      '-lead.example',
      'x..y',
      'under_score',
      `${'a'.repeat(64)}.x`,
    ]) {
      expect(() => createBalancer(cfg(bad)), bad).toThrow(/must be an IP address or an RFC 1123 host name/);
    }
  });
});

describe('policy state stays finite', () => {
  it('weighted: absurd offered weights cannot turn the rotation into NaN, and it recovers when they are sane', () => {
    const pick = weighted();
    const huge = [view('a', 1e308), view('b', 1e308)];
    for (let i = 0; i < 10; i++) expect(pick(ctx(), huge)).toBeDefined();
    const sane = [view('a', 1), view('b', 1)];
    const seen = Array.from({ length: 10 }, () => pick(ctx(), sane)!.id);
    expect(countBy(seen)).toEqual({ a: 5, b: 5 });
  });

  it('source-hash: a ring for 200 backends at the maximum weight is bounded and built quickly', () => {
    const pick = sourceHash();
    const many = Array.from({ length: 200 }, (_, i) => view(`b${i}`, MAX_WEIGHT));
    const started = performance.now();
    const chosen = pick(ctx('192.0.2.7'), many);
    // Unbounded, this ring had 5.1 M points and took tens of seconds; the bound is generous for CI.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(chosen).toBeDefined();
    // Same client, same backend (consistent hashing still works with the scaled-down ring).
    expect(pick(ctx('192.0.2.7'), many)!.id).toBe(chosen!.id);
    // Weights still matter after scaling: a weight-256 backend beside weight-1 ones takes most clients.
    const skewed = [view('heavy', MAX_WEIGHT), ...Array.from({ length: 4 }, (_, i) => view(`l${i}`, 1))];
    const pure = sourceHash({ loadFactor: Number.POSITIVE_INFINITY });
    const homes = Array.from({ length: 400 }, (_, i) => pure(ctx(`10.1.${i >> 8}.${i & 255}`), skewed)!.id);
    expect(countBy(homes).heavy).toBeGreaterThan(360);
  });

  it('weighted through real sockets at the maximum weight keeps its 1:1 split after setWeight', async () => {
    const a = await startBackend('a');
    const b = await startBackend('b');
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          policy: 'weighted',
          health: { enabled: false },
          backends: [
            { id: 'a', host: '127.0.0.1', port: a.port, weight: 1 },
            { id: 'b', host: '127.0.0.1', port: b.port, weight: 1 },
          ],
        },
      ],
    });
    lb.setWeight('p', 'a', MAX_WEIGHT);
    lb.setWeight('p', 'b', MAX_WEIGHT);
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push(await whoServes(port));
    expect(countBy(seen)).toEqual({ a: 4, b: 4 });
  });
});

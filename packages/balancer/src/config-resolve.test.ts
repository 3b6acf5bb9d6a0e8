import { describe, expect, it } from 'vitest';
import {
  type BalancerConfig,
  DEFAULT_HEALTH_FALL,
  DEFAULT_HEALTH_INTERVAL,
  DEFAULT_HEALTH_RISE,
} from './config.js';
import { resolveConfig } from './config-resolve.js';
import { BalancerConfigError } from './errors.js';

const ok: BalancerConfig = {
  listeners: [{ port: 0, pool: 'web' }],
  pools: [{ name: 'web', backends: [{ host: '127.0.0.1', port: 8080 }] }],
};

function fieldOf(c: unknown): string {
  try {
    resolveConfig(c as BalancerConfig);
  } catch (err) {
    if (err instanceof BalancerConfigError) {
      expect(err.code).toBe('IOLAB_BALANCER_CONFIG_INVALID');
      expect(err.message).toContain(err.field);
      return err.field;
    }
    throw err;
  }
  return '(accepted)';
}

describe('resolveConfig', () => {
  it('fills HAProxy-like defaults', () => {
    const r = resolveConfig(ok);
    expect(r.pools[0]!.health).toMatchObject({
      enabled: true,
      interval: DEFAULT_HEALTH_INTERVAL,
      rise: DEFAULT_HEALTH_RISE,
      fall: DEFAULT_HEALTH_FALL,
      timeout: DEFAULT_HEALTH_INTERVAL,
    });
    expect([DEFAULT_HEALTH_INTERVAL, DEFAULT_HEALTH_RISE, DEFAULT_HEALTH_FALL]).toEqual([2000, 2, 3]);
    expect(r.pools[0]!.backends[0]).toMatchObject({
      id: '127.0.0.1:8080',
      weight: 1,
      backup: false,
      maxconn: 0,
    });
    expect(r.listeners[0]).toMatchObject({ host: '127.0.0.1', mode: 'proxy', name: '127.0.0.1:0' });
  });

  it('names the field and the reason for bad values', () => {
    const pool = ok.pools[0]!;
    // JSON pointers, as a config file's errors: one message style for files and createBalancer().
    expect(fieldOf({ ...ok, pools: [] })).toBe('/pools');
    expect(fieldOf({ ...ok, listeners: [{ port: 0, pool: 'nope' }] })).toBe('/listeners/0/pool');
    expect(fieldOf({ ...ok, listeners: [{ port: 70000, pool: 'web' }] })).toBe('/listeners/0/port');
    expect(fieldOf({ ...ok, pools: [{ ...pool, backends: [{ host: 'h', port: 0 }] }] })).toBe(
      '/pools/0/backends/0/port',
    );
    expect(fieldOf({ ...ok, pools: [{ ...pool, backends: [{ host: '', port: 1 }] }] })).toBe(
      '/pools/0/backends/0/host',
    );
    expect(fieldOf({ ...ok, pools: [{ ...pool, backends: [{ host: 'h', port: 1, weight: -1 }] }] })).toBe(
      '/pools/0/backends/0/weight',
    );
    expect(
      fieldOf({ ...ok, pools: [{ ...pool, backends: [{ host: 'h', port: 1, proxyProtocol: 'v3' }] }] }),
    ).toBe('/pools/0/backends/0/proxyProtocol');
    expect(fieldOf({ ...ok, pools: [{ ...pool, policy: 'random' }] })).toBe('/pools/0/policy');
    expect(fieldOf({ ...ok, pools: [{ ...pool, health: { rise: 0 } }] })).toBe('/pools/0/health/rise');
    expect(fieldOf({ ...ok, pools: [pool, pool] })).toBe('/pools/1/name');
    expect(
      fieldOf({
        ...ok,
        pools: [
          {
            ...pool,
            backends: [
              { host: 'h', port: 1 },
              { host: 'h', port: 1 },
            ],
          },
        ],
      }),
    ).toBe('/pools/0/backends/1/id');
    expect(fieldOf({ ...ok, timeouts: { connect: 1.5 } })).toBe('/timeouts/connect');
    expect(
      fieldOf({ ...ok, listeners: [{ port: 0, pool: 'web', mode: 'director', acceptProxyProtocol: true }] }),
    ).toBe('/listeners/0/acceptProxyProtocol');
  });
});

import { describe, expect, it } from 'vitest';
import type { BalancerConfig } from '../config.js';
import { resolveConfig } from '../config-resolve.js';
import { BalancerConfigError } from '../errors.js';
import { nftServices, renderNftRuleset } from './nft-ruleset.js';

function config(over: Partial<BalancerConfig['pools'][number]> = {}, listener = {}): BalancerConfig {
  return {
    listeners: [{ host: '198.51.100.100', port: 80, pool: 'web', ...listener }],
    pools: [
      {
        name: 'web',
        policy: 'weighted',
        backends: [
          { host: '192.0.2.11', port: 8080, weight: 3 },
          { host: '192.0.2.12', port: 8080, weight: 1 },
          { host: '192.0.2.13', port: 8081, backup: true },
        ],
        ...over,
      },
    ],
  };
}

const all = (): boolean => true;

describe('nft ruleset rendering', () => {
  it('maps weights to contiguous numgen ranges, one DNAT chain per backend, backups left out', () => {
    const text = renderNftRuleset('iolab_t', nftServices(resolveConfig(config())), all);
    expect(text).toContain(
      'ip daddr 198.51.100.100 tcp dport 80 counter numgen inc mod 4 vmap { 0-2 : jump svc0_be0, 3 : jump svc0_be1 }',
    );
    expect(text).toContain('meta l4proto tcp counter dnat ip to 192.0.2.11:8080');
    expect(text).toContain('meta l4proto tcp counter dnat ip to 192.0.2.12:8080');
    expect(text).not.toContain('192.0.2.13');
    // Replaced atomically: create-if-missing, delete, define, in one file.
    expect(text.startsWith('table ip iolab_t\ndelete table ip iolab_t\ntable ip iolab_t {')).toBe(true);
  });

  it('round-robin ignores weights; source-hash hashes the client address', () => {
    const rr = renderNftRuleset('t', nftServices(resolveConfig(config({ policy: 'round-robin' }))), all);
    expect(rr).toContain('numgen inc mod 2 vmap { 0 : jump svc0_be0, 1 : jump svc0_be1 }');
    const sh = renderNftRuleset('t', nftServices(resolveConfig(config({ policy: 'source-hash' }))), all);
    expect(sh).toContain('jhash ip saddr mod 4 vmap { 0-2 : jump svc0_be0, 3 : jump svc0_be1 }');
  });

  it('drops a dead backend from the map and brings in the backup when every primary is dead', () => {
    const services = nftServices(resolveConfig(config()));
    const one = renderNftRuleset('t', services, (b) => b.host !== '192.0.2.11');
    expect(one).toContain('numgen inc mod 1 vmap { 0 : jump svc0_be1 }');
    expect(one).not.toContain('192.0.2.11');
    const backup = renderNftRuleset('t', services, (b) => b.backup);
    expect(backup).toContain('numgen inc mod 1 vmap { 0 : jump svc0_be2 }');
    expect(backup).toContain('dnat ip to 192.0.2.13:8081');
  });

  it('answers a listener with no live backend with a TCP reset instead of a map', () => {
    const text = renderNftRuleset('t', nftServices(resolveConfig(config())), () => false);
    expect(text).not.toContain('vmap');
    expect(text).toMatch(
      /type filter hook input[^}]*ip daddr 198\.51\.100\.100 tcp dport 80 counter reject with tcp reset/s,
    );
  });

  it('a 0.0.0.0 listener matches any local address', () => {
    const text = renderNftRuleset('t', nftServices(resolveConfig(config({}, { host: '0.0.0.0' }))), all);
    expect(text).toContain('fib daddr type local tcp dport 80');
  });

  it.each([
    ['a policy that needs connection counts', config({ policy: 'least-conn' }), 'pools.web.policy'],
    [
      'PROXY protocol to a backend',
      config({ backends: [{ host: '192.0.2.11', port: 1, proxyProtocol: 'v2' }] }),
      'pools.web.backends[0].proxyProtocol',
    ],
    ['a host name', config({ backends: [{ host: 'localhost', port: 1 }] }), 'pools.web.backends[0].host'],
    ['port 0', config({}, { port: 0 }), 'listeners[0].port'],
    [
      'accepting PROXY headers',
      config({}, { acceptProxyProtocol: true }),
      'listeners[0].acceptProxyProtocol',
    ],
    ['director mode', config({}, { mode: 'director' }), 'listeners[0].mode'],
  ])('refuses %s, naming the field', (_what, cfg, field) => {
    let error: unknown;
    try {
      nftServices(resolveConfig(cfg as BalancerConfig));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BalancerConfigError);
    expect((error as BalancerConfigError).field).toBe(field);
    expect((error as BalancerConfigError).code).toBe('IOLAB_BALANCER_CONFIG_INVALID');
  });

  it('refuses a table name nft would misparse', () => {
    expect(() => renderNftRuleset('bad name;', [], all)).toThrow(BalancerConfigError);
  });
});

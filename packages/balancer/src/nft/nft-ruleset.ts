/**
 * Renders a balancer config as an nftables ruleset: the LVS-NAT model on netfilter, the way kube-proxy's
 * nftables mode balances (`dnat to numgen inc mod N map { … }`). No I/O here: a config and the set of live
 * backends in, the text for `nft -f -` out.
 *
 * One rule per listener; weights become contiguous ranges of the `numgen` (or hash) value, each range
 * jumping to one backend's chain that holds its DNAT (kube-proxy's shape: service chain → endpoint chains):
 *
 * ```
 *   backends a (weight 3), b (weight 1)   →   numgen inc mod 4 vmap { 0-2 : jump svc0_be0, 3 : jump svc0_be1 }
 *   policy round-robin (weights ignored)  →   numgen inc mod 2 vmap { 0 : jump svc0_be0, 1 : jump svc0_be1 }
 *   policy source-hash                    →   jhash ip saddr mod 4 vmap { … }   (a client keeps its server)
 *   chain svc0_be0 { counter dnat ip to 192.0.2.11:8080 }
 * ```
 *
 * A verdict map to per-backend chains rather than one `dnat to numgen … map { 0 : addr . port }`: the
 * generator is evaluated once per new connection, and each backend gets its own counter (what the
 * distribution test and `nft list table` read).
 *
 * The whole table is replaced in one transaction (`table` / `delete table` / `table { … }` in one file), so
 * a change of membership never shows a half-built map; established connections keep their conntrack NAT
 * entry and are not re-balanced. Replacing the table resets its counters, which is why the director keeps
 * its own per-backend counts elsewhere.
 */
import { isIPv4 } from 'node:net';
import type { ResolvedBackend, ResolvedConfig, ResolvedListener, ResolvedPool } from '../config.js';
import { BalancerConfigError } from '../errors.js';

/** nft table names: the same characters nft accepts unquoted in every version we met. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Policies the kernel can do without per-connection state in user space. */
export const NFT_POLICIES = ['round-robin', 'weighted', 'source-hash'] as const;
export type NftPolicy = (typeof NFT_POLICIES)[number];

/** One listener as the kernel sees it. */
export interface NftService {
  readonly listener: string;
  /** Destination address matched; undefined = any address local to the director (`fib daddr type local`). */
  readonly address: string | undefined;
  readonly port: number;
  readonly policy: NftPolicy;
  /** Every configured backend in config order; `live` picks the ones in the map. */
  readonly backends: readonly ResolvedBackend[];
}

/**
 * Checks that a resolved config can run in the kernel and returns its services. Refuses, with the field and
 * the reason, what netfilter NAT cannot do: PROXY protocol (it never sees the byte stream), director mode,
 * policies that need connection counts, port 0, names instead of IPv4 addresses.
 */
export function nftServices(config: ResolvedConfig): NftService[] {
  const pools = new Map(config.pools.map((p) => [p.name, p]));
  return config.listeners.map((l, i) => serviceOf(l, pools.get(l.pool), `listeners[${i}]`));
}

function serviceOf(l: ResolvedListener, pool: ResolvedPool | undefined, field: string): NftService {
  if (!pool) throw new BalancerConfigError(`${field}.pool`, `no pool named ${l.pool}`);
  if (l.mode !== 'proxy')
    throw new BalancerConfigError(
      `${field}.mode`,
      'the nft engine forwards packets; director mode needs the user-space engine',
    );
  if (l.acceptProxyProtocol) {
    throw new BalancerConfigError(
      `${field}.acceptProxyProtocol`,
      'the kernel never reads the byte stream, so it cannot take a PROXY header; it keeps the client address by NAT instead',
    );
  }
  if (l.port === 0)
    throw new BalancerConfigError(
      `${field}.port`,
      'the nft engine needs a fixed port (0 means "any free port" only for a socket)',
    );
  const any = l.host === '0.0.0.0';
  if (!any && !isIPv4(l.host))
    throw new BalancerConfigError(
      `${field}.host`,
      `the nft engine needs an IPv4 address or 0.0.0.0, got ${l.host}`,
    );
  const policy = typeof pool.policy === 'string' ? pool.policy : 'custom function';
  if (!(NFT_POLICIES as readonly string[]).includes(policy)) {
    throw new BalancerConfigError(
      `pools.${pool.name}.policy`,
      `${policy} needs per-connection counts the kernel NAT engine does not keep; use ${NFT_POLICIES.join(', ')}`,
    );
  }
  pool.backends.forEach((b, j) => {
    if (!isIPv4(b.host))
      throw new BalancerConfigError(
        `pools.${pool.name}.backends[${j}].host`,
        `the nft engine needs an IPv4 address, got ${b.host}`,
      );
    if (b.proxyProtocol)
      throw new BalancerConfigError(
        `pools.${pool.name}.backends[${j}].proxyProtocol`,
        'the kernel cannot insert a PROXY header; NAT keeps the client address anyway',
      );
  });
  return {
    listener: l.name,
    address: any ? undefined : l.host,
    port: l.port,
    policy: policy as NftPolicy,
    backends: pool.backends,
  };
}

/** Backends that get traffic: live primaries with weight > 0, or live backups when no primary is live. */
export function activeBackends(
  service: NftService,
  live: (b: ResolvedBackend) => boolean,
): ResolvedBackend[] {
  const usable = service.backends.filter((b) => b.weight > 0 && live(b));
  const primaries = usable.filter((b) => !b.backup);
  return primaries.length > 0 ? primaries : usable.filter((b) => b.backup);
}

/**
 * The verdict-map ranges: `{ 0-2 : jump <chain of a>, 3 : jump <chain of b> }` and the modulus; weights are
 * ignored for round-robin. `chainOf` names each backend's chain.
 */
export function numgenMap(
  backends: readonly ResolvedBackend[],
  policy: NftPolicy,
  chainOf: (b: ResolvedBackend) => string,
): { modulus: number; elements: string[] } {
  let next = 0;
  const elements: string[] = [];
  for (const b of backends) {
    const share = policy === 'round-robin' ? 1 : b.weight;
    const range = share === 1 ? `${next}` : `${next}-${next + share - 1}`;
    elements.push(`${range} : jump ${chainOf(b)}`);
    next += share;
  }
  return { modulus: next, elements };
}

function match(s: NftService): string {
  return `${s.address ? `ip daddr ${s.address}` : 'fib daddr type local'} tcp dport ${s.port}`;
}

/**
 * The complete ruleset for one table. `live` says which backends passed their health checks.
 *
 * Chains: `prerouting` and `output` (so clients on the director itself are balanced too) jump to
 * `services`, one DNAT rule per listener; `no_endpoints` (filter, input) answers a listener whose pool has
 * no live backend with a TCP reset at once, the way kube-proxy rejects a service without endpoints, instead
 * of letting SYNs time out.
 */
export function renderNftRuleset(
  table: string,
  services: readonly NftService[],
  live: (b: ResolvedBackend) => boolean,
): string {
  if (!TABLE_NAME.test(table)) throw new BalancerConfigError('table', `not a valid nft table name: ${table}`);
  const dispatch: string[] = [];
  const backendChains: string[] = [];
  const reject: string[] = [];
  for (const [i, s] of services.entries()) {
    const active = activeBackends(s, live);
    const comment = `comment "${s.listener.replace(/["\\]/g, '')}"`;
    if (active.length === 0) {
      reject.push(`    ${match(s)} counter reject with tcp reset ${comment}`);
      continue;
    }
    const chainOf = (b: ResolvedBackend): string => `svc${i}_be${s.backends.indexOf(b)}`;
    const { modulus, elements } = numgenMap(active, s.policy, chainOf);
    const selector =
      s.policy === 'source-hash' ? `jhash ip saddr mod ${modulus}` : `numgen inc mod ${modulus}`;
    dispatch.push(`    ${match(s)} counter ${selector} vmap { ${elements.join(', ')} } ${comment}`);
    for (const b of active) {
      backendChains.push(
        `  chain ${chainOf(b)} {`,
        `    meta l4proto tcp counter dnat ip to ${b.host}:${b.port} comment "${b.id.replace(/["\\]/g, '')}"`,
        '  }',
      );
    }
  }
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain services {',
    ...dispatch,
    '  }',
    ...backendChains,
    '  chain no_endpoints {',
    '    type filter hook input priority 0; policy accept;',
    ...reject,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Renders a balancer config as an nftables ruleset: the LVS-NAT model on netfilter, the way kube-proxy's
 * nftables mode balances (`dnat to numgen inc mod N map { … }`). No I/O here: a config and the set of live
 * backends in, the text for `nft -f -` out.
 *
 * One rule per listener; weights become contiguous ranges of the `numgen` (or hash) value:
 *
 * ```
 *   backends a (weight 3), b (weight 1)         →   numgen inc mod 4 map { 0-2 : a . port, 3 : b . port }
 *   policy round-robin (weights ignored)        →   numgen inc mod 2 map { 0 : a . port, 1 : b . port }
 *   policy source-hash                          →   jhash ip saddr mod 4 map { … }   (client keeps its server)
 * ```
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

/** `{ 0-2 : 192.0.2.11 . 8080, 3 : 192.0.2.12 . 8080 }` and the modulus; weights ignored for round-robin. */
export function numgenMap(
  backends: readonly ResolvedBackend[],
  policy: NftPolicy,
): { modulus: number; elements: string[] } {
  let next = 0;
  const elements: string[] = [];
  for (const b of backends) {
    const share = policy === 'round-robin' ? 1 : b.weight;
    const range = share === 1 ? `${next}` : `${next}-${next + share - 1}`;
    elements.push(`${range} : ${b.host} . ${b.port}`);
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
  const dnat: string[] = [];
  const reject: string[] = [];
  for (const s of services) {
    const active = activeBackends(s, live);
    const comment = `comment "${s.listener.replace(/["\\]/g, '')}"`;
    if (active.length === 0) {
      reject.push(`    ${match(s)} counter reject with tcp reset ${comment}`);
      continue;
    }
    const { modulus, elements } = numgenMap(active, s.policy);
    const selector =
      s.policy === 'source-hash' ? `jhash ip saddr mod ${modulus}` : `numgen inc mod ${modulus}`;
    dnat.push(
      `    ${match(s)} counter dnat ip addr . port to ${selector} map { ${elements.join(', ')} } ${comment}`,
    );
  }
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    jump services',
    '  }',
    '  chain output {',
    '    type nat hook output priority dstnat; policy accept;',
    '    jump services',
    '  }',
    '  chain services {',
    ...dnat,
    '  }',
    '  chain no_endpoints {',
    '    type filter hook input priority filter; policy accept;',
    ...reject,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The kernel NAT engine: installs the config as an nftables table in the current network namespace, runs
 * iolab's own active health checks (the same `runHealthCheck` as the user-space balancer) and rewrites the
 * table when a backend falls or rises — keepalived's real-server job, done on netfilter. Packets never pass
 * through this process; it only decides the map.
 *
 * Real servers must route their replies back through the director (LVS-NAT): conntrack on the director
 * undoes the DNAT on the way back, and the real server sees the client's own address.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { BalancerConfig, ResolvedBackend, ResolvedConfig } from '../config.js';
import { resolveConfig } from '../config-resolve.js';
import { NftApplyError } from '../errors.js';
import { runHealthCheck } from '../health-check.js';
import { type NftService, nftServices, renderNftRuleset } from './nft-ruleset.js';

/** One `nft -f` finishes within this; the kernel answers in milliseconds, a hang means something is wrong. */
export const NFT_APPLY_TIMEOUT_MS = 10_000;

export interface NftDirectorOptions {
  /** nft table name (default `iolab_<pid>`): unique per process so two directors in one namespace do not collide. */
  readonly table?: string;
  /** Path of `nft` (default: searched in the sbin directories). */
  readonly nftPath?: string;
  /** Called on every backend state change and every ruleset applied. */
  readonly onEvent?: (event: NftDirectorEvent) => void;
}

export type NftDirectorEvent =
  | { readonly type: 'applied'; readonly live: readonly string[]; readonly ruleset: string }
  | {
      readonly type: 'backend';
      readonly pool: string;
      readonly backend: string;
      readonly healthy: boolean;
      readonly detail?: string;
    }
  | { readonly type: 'error'; readonly error: Error };

export interface NftDirector {
  readonly table: string;
  /** The ruleset currently installed. */
  ruleset(): string;
  /** `pool/backend` → healthy. */
  health(): ReadonlyMap<string, boolean>;
  /**
   * A reload: validates `config` for the kernel and installs it in one transaction. A config the kernel
   * cannot run, or an `nft` that refuses it, throws and leaves the running table and checks as they were.
   * Backends kept (same pool and id) keep their health; new ones start healthy; checks restart for the new set.
   * Established connections keep their conntrack entries, as on any change of membership.
   */
  update(config: BalancerConfig): void;
  /** Stops the health checks and deletes the table. Idempotent. */
  stop(): Promise<void>;
}

function findNft(): string {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      accessSync(`${dir}/nft`, constants.X_OK);
      return `${dir}/nft`;
    } catch {
      // Not here.
    }
  }
  throw new NftApplyError('the nft engine needs `nft` (Debian: apt-get install nftables)', 'not found');
}

function nft(path: string, input: string): void {
  try {
    execFileSync(path, ['-f', '-'], {
      input,
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: NFT_APPLY_TIMEOUT_MS,
    });
  } catch (error) {
    throw new NftApplyError(
      'nft -f failed',
      String((error as { stderr?: unknown }).stderr ?? (error as Error).message),
    );
  }
}

interface Plan {
  readonly resolved: ResolvedConfig;
  readonly services: readonly NftService[];
  readonly poolOf: ReadonlyMap<ResolvedBackend, string>;
}

/** Everything that can reject a config, before anything is installed. */
function planOf(config: BalancerConfig): Plan {
  const resolved: ResolvedConfig = resolveConfig(config);
  const services = nftServices(resolved);
  const poolOf = new Map<ResolvedBackend, string>();
  for (const p of resolved.pools) for (const b of p.backends) poolOf.set(b, p.name);
  return { resolved, services, poolOf };
}

/** Validates the config for the kernel, installs it, starts health checks. Throws NftApplyError / BalancerConfigError. */
export function startNftDirector(config: BalancerConfig, options: NftDirectorOptions = {}): NftDirector {
  const table = options.table ?? `iolab_${process.pid}`;
  const nftPath = options.nftPath ?? findNft();
  const emit = options.onEvent ?? (() => {});
  let plan = planOf(config);
  const key = (b: ResolvedBackend): string => `${plan.poolOf.get(b)}/${b.id}`;
  // Like the user-space pool, a backend starts healthy: traffic flows at once and `fall` checks take it out.
  let healthy = new Map<string, boolean>([...plan.poolOf.keys()].map((b) => [key(b), true]));
  const streak = new Map<string, number>();
  let current = '';
  let stopped = false;
  /** Bumped by every reload: a check started for an older config reports into nothing. */
  let generation = 0;
  const timers = new Set<NodeJS.Timeout>();

  const install = (
    services: readonly NftService[],
    live: ReadonlyMap<string, boolean>,
    keyOf: (b: ResolvedBackend) => string,
  ): void => {
    const text = renderNftRuleset(table, services, (b) => live.get(keyOf(b)) === true);
    if (text === current) return;
    nft(nftPath, text);
    current = text;
    emit({ type: 'applied', live: [...live].filter(([, h]) => h).map(([k]) => k), ruleset: text });
  };
  const apply = (): void => install(plan.services, healthy, key);
  apply();

  const schedule = (pool: ResolvedConfig['pools'][number], b: ResolvedBackend, delay: number): void => {
    const checkGeneration = generation;
    const t = setTimeout(() => {
      timers.delete(t);
      void runHealthCheck(b.host, b.port, pool.health).then((r) => {
        if (stopped || checkGeneration !== generation) return;
        const k = key(b);
        const was = healthy.get(k) === true;
        // Count consecutive results against the current state: `fall` bad ones take it out, `rise` good ones back.
        const n = r.ok !== was ? (streak.get(k) ?? 0) + 1 : 0;
        streak.set(k, n);
        if (n >= (was ? pool.health.fall : pool.health.rise)) {
          healthy.set(k, !was);
          streak.set(k, 0);
          emit({
            type: 'backend',
            pool: pool.name,
            backend: b.id,
            healthy: !was,
            ...(r.detail ? { detail: r.detail } : {}),
          });
          try {
            apply();
          } catch (error) {
            emit({ type: 'error', error: error as Error });
          }
        }
        schedule(pool, b, pool.health.interval);
      });
    }, delay);
    timers.add(t);
  };
  const startChecks = (): void => {
    for (const pool of plan.resolved.pools) {
      if (!pool.health.enabled) continue;
      // Spread the first checks over one interval so N backends are not checked in one burst.
      for (const [i, b] of pool.backends.entries()) {
        schedule(pool, b, Math.floor((pool.health.interval * i) / pool.backends.length));
      }
    }
  };
  startChecks();

  return {
    table,
    ruleset: () => current,
    health: () => new Map(healthy),
    update: (next) => {
      if (stopped) return;
      const nextPlan = planOf(next);
      const nextKey = (b: ResolvedBackend): string => `${nextPlan.poolOf.get(b)}/${b.id}`;
      const nextHealthy = new Map<string, boolean>(
        [...nextPlan.poolOf.keys()].map((b) => [nextKey(b), healthy.get(nextKey(b)) ?? true]),
      );
      // Installed first: if nft refuses, nothing below has changed.
      install(nextPlan.services, nextHealthy, nextKey);
      generation++;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      streak.clear();
      plan = nextPlan;
      healthy = nextHealthy;
      startChecks();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // `table` then `delete table`: deleting succeeds even if someone already removed it.
      nft(nftPath, `table ip ${table}\ndelete table ip ${table}\n`);
    },
  };
}

export type { NftService };

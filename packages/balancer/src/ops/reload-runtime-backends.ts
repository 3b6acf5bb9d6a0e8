/**
 * What a SIGHUP reload does to backends added at run time through the admin API: the file is the source of
 * truth, so a reload makes the pools exactly what the file says (as HAProxy does with servers added over
 * its runtime API: they do not survive a reload). Dropping them silently is what we must not do, so each
 * backend a reload removes gets one warning line, saying whether it came from the admin API.
 */
import type { BalancerStats } from '../balancer-api.js';
import { resolveConfig } from '../config-resolve.js';
import type { BalancerFileConfig } from './config-schema.js';
import type { Logger } from './logging.js';

function idsByPool(config: BalancerFileConfig): Map<string, Set<string>> {
  return new Map(
    resolveConfig(config.balancer).pools.map((p) => [p.name, new Set(p.backends.map((b) => b.id))]),
  );
}

/** Logs `backend-removed-by-reload` for every backend running `before` that `next` does not keep. */
export function logRemovedBackends(
  logger: Logger,
  before: BalancerStats,
  previous: BalancerFileConfig,
  next: BalancerFileConfig,
): void {
  const prev = idsByPool(previous);
  const kept = idsByPool(next);
  for (const pool of before.pools) {
    for (const b of pool.backends) {
      if (kept.get(pool.name)?.has(b.id)) continue;
      const addedAtRunTime = !prev.get(pool.name)?.has(b.id);
      logger[addedAtRunTime ? 'warn' : 'info'](
        { event: 'backend-removed-by-reload', pool: pool.name, backend: b.id, addedAtRunTime },
        addedAtRunTime
          ? `reload: backend ${b.id} of pool ${pool.name} was added through the admin API and is not in the config file; removed`
          : `reload: backend ${b.id} of pool ${pool.name} is no longer in the config file; removed`,
      );
    }
  }
}

/**
 * Config reload (SIGHUP or `POST /reload`): re-read, validate, apply — or keep running the old config.
 *
 *   SIGHUP ─► load() ──invalid──► log `reload-failed` (old config keeps running)
 *                    └─valid──► apply() ──throws──► log `reload-failed` (the data plane changed nothing)
 *                                      └─ok──────► log `reload-ok`
 *
 * Reloads never overlap: a SIGHUP that arrives during one schedules exactly one more after it (signals
 * that pile up coalesce), so the file read last is the one that wins.
 */
import type { Logger } from 'pino';
import type { BalancerFileConfig } from './config-schema.js';
import { ConfigFileError } from './config-schema.js';

export interface ReloaderOptions {
  /** Reads and validates the config (throws a `ConfigFileError` on a bad one). */
  load(): Promise<BalancerFileConfig>;
  /** Applies a valid config to the running balancer(s) without dropping connections. */
  apply(config: BalancerFileConfig): Promise<void>;
  logger: Logger;
  /** Settings a reload cannot change in place; a change is logged as needing a restart. */
  current?: () => BalancerFileConfig;
}

export interface Reloader {
  /** Reloads now (or after the one in flight). Rejects with the error after logging it. */
  reload(): Promise<void>;
  /** Reloads on SIGHUP until the returned function is called. */
  onSighup(): () => void;
}

export function createReloader(options: ReloaderOptions): Reloader {
  const { logger } = options;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const once = async (): Promise<void> => {
    const started = performance.now();
    let next: BalancerFileConfig;
    try {
      next = await options.load();
      const before = options.current?.();
      if (before) {
        if (JSON.stringify(before.admin) !== JSON.stringify(next.admin)) {
          logger.warn(
            { event: 'reload-restart-needed', field: '/admin' },
            'admin address changes need a restart',
          );
        }
        if (before.workers !== next.workers) {
          logger.warn(
            { event: 'reload-restart-needed', field: '/workers' },
            'worker count changes need a restart',
          );
        }
      }
      await options.apply(next);
      // The log level is the one ops setting that can change in place.
      logger.level = next.logLevel;
    } catch (err) {
      const issues = err instanceof ConfigFileError ? err.issues : undefined;
      logger.error(
        {
          event: 'reload-failed',
          code: (err as { code?: string }).code,
          ...(issues ? { issues } : {}),
          err: err instanceof Error ? err.message : String(err),
        },
        'reload failed; still running the previous config',
      );
      throw err;
    }
    logger.info(
      { event: 'reload-ok', durationMs: Math.round(performance.now() - started) },
      'config reloaded',
    );
  };

  const reload = (): Promise<void> => {
    if (!running) {
      running = once().finally(() => {
        running = undefined;
      });
      return running;
    }
    if (!queued) {
      queued = running
        .catch(() => {})
        .then(() => {
          queued = undefined;
          return reload();
        });
    }
    return queued;
  };

  return {
    reload,
    onSighup() {
      const handler = (): void => {
        logger.info({ event: 'reload-requested', signal: 'SIGHUP' }, 'SIGHUP: reloading config');
        reload().catch(() => {
          // Already logged; the old config keeps running.
        });
      };
      process.on('SIGHUP', handler);
      return () => process.off('SIGHUP', handler);
    },
  };
}

/**
 * `iolab balance --engine nft`: the same validated config as the user-space engine, run by the kernel. The
 * process installs the table, runs the health checks, prints `listening on HOST:PORT (nft)` per listener,
 * reloads its `--config` file on SIGHUP (one nft transaction), and removes its table on SIGTERM/SIGINT or
 * when it dies of an error; the kernel forwards the packets.
 */
import { readFileSync } from 'node:fs';
import type { BalancerConfig } from '../config.js';
import type { BalancerFileConfig } from '../ops/config-schema.js';
import type { Logger } from '../ops/logging.js';
import { createReloader } from '../ops/reload.js';
import { type NftDirector, startNftDirector } from './nft-director.js';

export interface NftCommandOptions {
  readonly config: BalancerConfig;
  readonly logger: Logger;
  /** What the user asked for that the kernel engine does not do (admin API, workers): warned, not fatal. */
  readonly ignored: readonly string[];
  /**
   * Re-reads and validates the config file (`--config`), for SIGHUP. Without one, SIGHUP is logged and
   * ignored: its default action would kill the process and leave the table behind.
   */
  readonly load?: () => Promise<BalancerFileConfig>;
}

/** Runs until SIGTERM/SIGINT; sets process.exitCode. */
export async function runNftEngine(options: NftCommandOptions): Promise<void> {
  const { config, logger } = options;
  for (const what of options.ignored) {
    logger.warn(
      { event: 'nft-ignored', option: what },
      `--engine nft: ${what} is not supported and is ignored`,
    );
  }
  // Packets from other hosts are forwarded only with IP forwarding on; the rules alone would not do it.
  try {
    if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '0') {
      logger.warn(
        { event: 'nft-ip-forward-off' },
        'net.ipv4.ip_forward is 0 in this namespace: only clients on this host will be balanced',
      );
    }
  } catch {
    // Not Linux procfs: nft would have failed first anyway.
  }
  // Until the table is installed (and without a file to re-read), SIGHUP is ignored: its default action would
  // kill the process and leave the table behind.
  const onHup = (): void =>
    logger.warn(
      { event: 'reload-ignored', signal: 'SIGHUP' },
      options.load
        ? 'SIGHUP before start-up finished: ignored'
        : 'no --config file to reload: SIGHUP ignored',
    );
  process.on('SIGHUP', onHup);
  let director: NftDirector;
  try {
    director = startNftDirector(config, {
      onEvent: (e) => {
        if (e.type === 'backend') {
          logger.info(
            {
              event: 'backend-state',
              pool: e.pool,
              backend: e.backend,
              healthy: e.healthy,
              detail: e.detail,
            },
            `${e.pool}/${e.backend} ${e.healthy ? 'up: added to' : 'down: removed from'} the nft map`,
          );
        } else if (e.type === 'applied') {
          logger.debug({ event: 'nft-applied', live: e.live }, 'nft ruleset applied');
        } else logger.error({ event: 'nft-error', err: e.error.message }, 'nft update failed');
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`iolab balance: ${message}\n`);
    process.off('SIGHUP', onHup);
    process.exitCode = 1;
    return;
  }
  // If the process dies of anything but our signal handler, the table must not outlive it.
  const onExit = (): void => void director.stop().catch(() => {});
  process.once('exit', onExit);
  for (const l of config.listeners) {
    process.stdout.write(`listening on ${l.host ?? '0.0.0.0'}:${l.port} (nft table ip ${director.table})\n`);
  }
  logger.info({ event: 'started', engine: 'nft', table: director.table }, 'kernel NAT director started');
  // SIGHUP reloads like the user-space engine: re-read, validate, install in one nft transaction — or keep
  // the running table. The admin API and workers stay unsupported here, so only the balancer part applies.
  const installed = director;
  const load = options.load;
  let stopReload: (() => void) | undefined;
  if (load) {
    process.off('SIGHUP', onHup);
    stopReload = createReloader({
      logger,
      load,
      apply: async (next) => installed.update(next.balancer),
    }).onSighup();
  }
  // Signal listeners do not keep Node's event loop alive (with --no-health nothing else would).
  const keepAlive = setInterval(() => {}, 2 ** 30);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      clearInterval(keepAlive);
      logger.info({ event: 'stopping', signal }, `${signal}: removing the nft table`);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  process.off('exit', onExit);
  process.off('SIGHUP', onHup);
  stopReload?.();
  try {
    await director.stop();
    process.exitCode = 0;
  } catch (error) {
    logger.error({ event: 'stop-failed', err: String(error) }, 'could not remove the nft table');
    process.exitCode = 1;
  }
}

/**
 * `iolab balance` / `iolab-balancer` as a process: start-up (local or a node:cluster of workers), signals
 * (drain on SIGTERM/SIGINT, reload on SIGHUP), the admin API and its token. Logs go to stderr; stdout
 * carries only the `listening on HOST:PORT` lines scripts wait for. The flags and the config they build
 * are `command-flags.ts`.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../duration.js';
import { type AdminServer, isLoopbackHost, startAdminServer } from './admin-api.js';
import { type RunningBalancer, runClusterWorker, startCluster, startLocal } from './cluster.js';
import {
  buildConfig,
  type Flags,
  help,
  type Json,
  mergeFlags,
  OPTIONS,
  parseDurationFlag,
  UsageError,
} from './command-flags.js';
import { checkAddresses, effectiveConfig } from './config-check.js';
import {
  type BalancerFileConfig,
  ConfigFileError,
  parseBalancerConfig,
  readBalancerConfigJson,
} from './config-schema.js';
import { createBalancerLogger, type Logger } from './logging.js';
import { createReloader } from './reload.js';
import { logRemovedBackends } from './reload-runtime-backends.js';

/** Drain deadline on SIGTERM: matches the data plane's close default; long enough to finish a response. */
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

interface GeneratedToken {
  token: string;
  path: string;
  remove(): void;
}

/**
 * 256 random bits, in a file only this user can read (a 0700 directory of its own under $XDG_RUNTIME_DIR,
 * else the temp dir, and the file itself 0600), removed on a clean stop.
 */
function generateAdminToken(): GeneratedToken {
  const token = randomBytes(32).toString('base64url');
  const dir = mkdtempSync(join(process.env.XDG_RUNTIME_DIR || tmpdir(), 'iolab-balancer-'));
  chmodSync(dir, 0o700);
  const path = join(dir, 'admin-token');
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function fmtAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** `name version` of this package, for `--version`. */
export function balancerVersion(): string {
  // dist/ops/command.js and src/ops/command.ts both sit two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Runs the command. `prog` is how it was invoked (`iolab-balancer`, or `iolab balance` from the iolab
 * CLI): the code and flags are the same, only the name in messages differs.
 */
/**
 * A reload's read of the config file: validated alone first (so an error names the file's own fields), then
 * with the command-line flags laid over it, as at start. Both engines reload through this.
 */
async function reloadFile(path: string, flags: Flags): Promise<{ raw: Json; config: BalancerFileConfig }> {
  const base = await readBalancerConfigJson(path);
  parseBalancerConfig(base, path);
  const raw = mergeFlags(base, flags);
  return { raw, config: parseBalancerConfig(raw, path) };
}

export async function runBalance(args: string[], prog = 'iolab-balancer'): Promise<void> {
  if (cluster.isWorker) {
    runClusterWorker();
    return;
  }
  let flags: Flags;
  let built: { raw: Json; config: BalancerFileConfig };
  try {
    flags = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
    if (flags.help) {
      process.stdout.write(help(prog));
      return;
    }
    if (flags.version) {
      process.stdout.write(`${prog} ${balancerVersion()}\n`);
      return;
    }
    if (flags.print && !flags.check) throw new UsageError('--print only goes with --check');
    if (flags.engine !== undefined && flags.engine !== 'user' && flags.engine !== 'nft') {
      throw new UsageError(`--engine: must be user or nft, got ${JSON.stringify(flags.engine)}`);
    }
    built = await buildConfig(flags);
    if (flags.check) {
      // Start would fail on a listen address that does not resolve: so must the check.
      await checkAddresses(built.config, flags.config);
      if (flags.print) process.stdout.write(`${JSON.stringify(effectiveConfig(built.config), null, 2)}\n`);
      else process.stdout.write('config ok\n');
      return;
    }
  } catch (err) {
    if (err instanceof ConfigFileError) {
      process.stderr.write(`${prog}: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${prog}: ${message}\nrun '${prog} --help' for usage\n`);
    process.exitCode = 2;
    return;
  }
  const drainFlag = parseDurationFlag('--drain-timeout', flags['drain-timeout']);
  const drainTimeout =
    drainFlag === undefined ? DEFAULT_DRAIN_TIMEOUT_MS : (parseDuration(drainFlag) as { ms: number }).ms;
  let current = built.config;
  const logger = createBalancerLogger({
    level: current.logLevel,
    base: cluster.isPrimary && current.workers > 1 ? { role: 'primary' } : {},
  });
  if (flags.engine === 'nft') {
    const { runNftEngine } = await import('../nft/nft-command.js');
    const ignored = [current.admin && '--admin', current.workers > 1 && '--workers'].filter((x) => !!x);
    const nftConfigPath = flags.config;
    await runNftEngine({
      config: current.balancer,
      logger,
      ignored: ignored as string[],
      ...(nftConfigPath === undefined
        ? {}
        : {
            load: async () => (await reloadFile(nftConfigPath, flags)).config,
          }),
    });
    await flushLogs(logger);
    return;
  }

  // Until the balancer runs, a SIGHUP (default action: exit) is ignored and a SIGTERM/SIGINT is remembered
  // and honoured as soon as start-up finishes, so no signal can kill a half-started process.
  let earlyStop: NodeJS.Signals | undefined;
  const earlyHup = (): void => {
    logger.warn({ event: 'reload-ignored', signal: 'SIGHUP' }, 'SIGHUP before start-up finished: ignored');
  };
  const earlyTerm = (signal: NodeJS.Signals): void => {
    earlyStop = signal;
  };
  process.on('SIGHUP', earlyHup);
  process.on('SIGTERM', earlyTerm);
  process.on('SIGINT', earlyTerm);

  let running: RunningBalancer;
  let admin: AdminServer | undefined;
  try {
    running =
      current.workers > 1
        ? await startCluster({ workers: current.workers, raw: built.raw, config: current, logger })
        : await startLocal(current, logger);
  } catch (err) {
    logger.fatal(
      { event: 'start-failed', err: err instanceof Error ? err.message : String(err) },
      'could not start',
    );
    await flushLogs(logger);
    process.stderr.write(`${prog}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }

  const configPath = flags.config;
  // Set by load(), used by apply(): reloads never overlap, so this is the raw JSON of the config applied.
  let loadedRaw: Json = built.raw;
  const reloader = createReloader({
    logger,
    current: () => current,
    async load() {
      if (configPath === undefined) throw new Error('no --config file to reload');
      const loaded = await reloadFile(configPath, flags);
      loadedRaw = loaded.raw;
      return loaded.config;
    },
    async apply(next) {
      const before = await running.control.stats();
      await running.update(next, loadedRaw);
      logRemovedBackends(logger, before, current, next);
      current = next;
    },
  });
  const stopSighup = reloader.onSighup();
  process.off('SIGHUP', earlyHup);

  let tokenFile: GeneratedToken | undefined;
  if (current.admin) {
    try {
      let token = current.admin.token;
      // Over TCP, a token always guards the API; a Unix socket is guarded by its file mode alone unless
      // a token was given. A non-loopback address needs an operator-chosen token (startAdminServer refuses).
      if (token === undefined && 'port' in current.admin && isLoopbackHost(current.admin.host)) {
        tokenFile = generateAdminToken();
        token = tokenFile.token;
      }
      admin = await startAdminServer(
        configPath === undefined ? running.control : { ...running.control, reload: () => reloader.reload() },
        {
          ...current.admin,
          token,
          onError: (err) => logger.error({ event: 'admin-error', err: String(err) }, 'admin API error'),
        },
      );
    } catch (err) {
      logger.fatal({ event: 'admin-failed', err: String(err) }, 'could not start the admin API');
      process.stderr.write(`iolab balance: admin API: ${err instanceof Error ? err.message : String(err)}\n`);
      tokenFile?.remove();
      await running.close(0);
      await flushLogs(logger);
      process.exit(1);
    }
  }

  for (const a of running.addresses) {
    if (a.mode === 'proxy') process.stdout.write(`listening on ${fmtAddress(a.host, a.port)}\n`);
  }
  for (const a of running.addresses) {
    if (a.mode === 'director') process.stdout.write(`director on ${fmtAddress(a.host, a.port)}\n`);
  }
  if (admin) process.stdout.write(`admin on ${admin.address}\n`);
  if (tokenFile) process.stdout.write(`admin token in ${tokenFile.path}\n`);
  logger.info(
    {
      event: 'started',
      addresses: running.addresses,
      admin: admin ? admin.address : null,
      workers: current.workers,
    },
    'balancer started',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ event: 'stop-forced', signal }, 'second signal: closing now');
      void running.close(0);
      return;
    }
    stopping = true;
    logger.info({ event: 'draining', signal, deadlineMs: drainTimeout }, `${signal}: draining`);
    stopSighup();
    void (async () => {
      let code = 0;
      try {
        await admin?.close();
        tokenFile?.remove();
        await running.close(drainTimeout);
        logger.info({ event: 'stopped' }, 'stopped');
      } catch (err) {
        code = 1;
        logger.error({ event: 'stop-failed', err: String(err) }, 'error while stopping');
      }
      await flushLogs(logger);
      process.exit(code);
    })();
  };
  process.off('SIGTERM', earlyTerm);
  process.off('SIGINT', earlyTerm);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (earlyStop) stop(earlyStop);
}

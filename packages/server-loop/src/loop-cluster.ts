/**
 * `workers: N` — N event loops as `node:cluster` worker processes on one listening socket, the usual way
 * to spread a Node event loop over cores. The primary holds the socket and (Linux default,
 * SCHED_RR) accepts and hands each connection to a worker in turn; it runs no sessions itself.
 *
 * Stats: each worker pushes its `stats()` every STATS_PUSH_MS; the primary's `stats()` sums them
 * (connections, requests, errors, peer resets, rejected, refused, RSS incl. the primary's own), counts one thread per live
 * worker, and sums per-worker peaks (an upper bound of the true simultaneous peak). Values may be up to
 * STATS_PUSH_MS old.
 *
 * Supervision (nginx's master): a worker that dies while the cluster runs is reported on stderr and
 * respawned after a backoff (RESPAWN_BASE_DELAY_MS, doubling up to RESPAWN_MAX_DELAY_MS while it keeps dying
 * young); the primary only ever sends to connected workers. Its last counters stay in the sums.
 */
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DRAIN_TIMEOUT_MS, type RunningServer, type ServerStats } from '@iolab/server-core';
import type { LoopOptions } from './loop-server.js';

/** How often a worker reports its stats to the primary. */
export const STATS_PUSH_MS = 250;
/** A worker that has not started listening by then is considered broken. */
const STARTUP_TIMEOUT_MS = 30_000;
/** Extra time past the drain deadline before a worker that has not exited is killed. */
const EXIT_GRACE_MS = 2_000;
/** First respawn delay: no spinning on a crash loop, barely noticeable for a one-off death. */
export const RESPAWN_BASE_DELAY_MS = 100;
/** Respawn delays double per quick death up to this. */
export const RESPAWN_MAX_DELAY_MS = 10_000;
/** A worker that lived this long had a one-off death: its slot's backoff starts over. */
const RESPAWN_STABLE_MS = 10_000;

export type ClusterMessage =
  | { readonly type: 'listening'; readonly address: AddressInfo }
  | { readonly type: 'stats'; readonly stats: ServerStats }
  | { readonly type: 'close'; readonly deadlineMs: number };

export const OPTIONS_ENV = 'IOLAB_LOOP_OPTIONS';
const WORKER_URL = new URL('../dist/cluster-worker.js', import.meta.url);

const EMPTY: ServerStats = {
  connections: 0,
  peakConnections: 0,
  threadsAlive: 0,
  threadsPeak: 0,
  queueLength: 0,
  requests: 0,
  errors: 0,
  peerResets: 0,
  rejected: 0,
  refused: 0,
  headerTimeouts: 0,
  idleTimeouts: 0,
  rssBytes: 0,
};

export async function startLoopCluster(options: LoopOptions, workers: number): Promise<RunningServer> {
  cluster.setupPrimary({ exec: fileURLToPath(WORKER_URL), args: [], serialization: 'json' });
  const latest = new Map<Worker, ServerStats>();
  const alive = new Set<Worker>();
  let peakWorkers = 0;
  const env = { [OPTIONS_ENV]: JSON.stringify({ ...options, workers: 1 }) };

  /** Counters of workers that died, so sums never go backwards when one is replaced. */
  let gone: ServerStats = { ...EMPTY };
  let stopping = false;
  const backoff: number[] = [];
  const respawnTimers = new Set<NodeJS.Timeout>();

  const spawn = (slot: number): Promise<AddressInfo> => {
    const worker = cluster.fork(env);
    const bornAt = Date.now();
    alive.add(worker);
    peakWorkers = Math.max(peakWorkers, alive.size);
    // A send to a worker whose channel just closed reports here; without a listener it would throw.
    worker.on('error', () => {});
    worker.on('message', (message: ClusterMessage) => {
      if (message.type === 'stats') latest.set(worker, message.stats);
    });
    worker.once('exit', (code, signal) => {
      alive.delete(worker);
      const last = latest.get(worker);
      latest.delete(worker);
      if (last) {
        gone = {
          ...gone,
          peakConnections: gone.peakConnections + last.peakConnections,
          requests: gone.requests + last.requests,
          errors: gone.errors + last.errors,
          peerResets: gone.peerResets + last.peerResets,
          rejected: gone.rejected + last.rejected,
          refused: gone.refused + last.refused,
        };
      }
      if (stopping) return;
      const quick = Date.now() - bornAt < RESPAWN_STABLE_MS;
      const delayMs = quick
        ? Math.min(RESPAWN_MAX_DELAY_MS, (backoff[slot] ?? 0) * 2 || RESPAWN_BASE_DELAY_MS)
        : RESPAWN_BASE_DELAY_MS;
      backoff[slot] = delayMs;
      process.stderr.write(
        `iolab serve loop: worker ${slot} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); respawning in ${delayMs} ms\n`,
      );
      const t = setTimeout(() => {
        respawnTimers.delete(t);
        if (stopping) return;
        spawn(slot).then(
          () => process.stderr.write(`iolab serve loop: worker ${slot} respawned (${alive.size} alive)\n`),
          // Its own exit handler has already scheduled the next attempt.
          () => {},
        );
      }, delayMs);
      respawnTimers.add(t);
    });
    return new Promise<AddressInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('cluster worker did not start listening'));
        worker.process.kill('SIGKILL');
      }, STARTUP_TIMEOUT_MS);
      worker.on('message', (message: ClusterMessage) => {
        if (message.type === 'listening') {
          clearTimeout(timer);
          resolve(message.address);
        }
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`cluster worker exited with code ${code} before listening`));
      });
    });
  };

  let addresses: AddressInfo[];
  try {
    addresses = await Promise.all(Array.from({ length: workers }, (_, slot) => spawn(slot)));
  } catch (err) {
    stopping = true;
    for (const worker of alive) worker.process.kill('SIGKILL');
    throw err;
  }

  let closing: Promise<void> | undefined;
  const close = async (deadlineMs: number): Promise<void> => {
    stopping = true;
    for (const t of respawnTimers) clearTimeout(t);
    const exits = [...alive].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const kill = setTimeout(() => worker.process.kill('SIGKILL'), deadlineMs + EXIT_GRACE_MS);
          worker.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          if (worker.isConnected())
            worker.send({ type: 'close', deadlineMs } satisfies ClusterMessage, () => {});
          else worker.process.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
  };

  return {
    address: addresses[0]!,
    close: (deadlineMs) => {
      closing ??= close(deadlineMs ?? options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
      return closing;
    },
    stats: () => {
      let sum: ServerStats = {
        ...gone,
        connections: 0,
        rssBytes: 0,
        threadsAlive: alive.size,
        threadsPeak: peakWorkers,
      };
      for (const s of latest.values()) {
        sum = {
          ...sum,
          connections: sum.connections + s.connections,
          peakConnections: sum.peakConnections + s.peakConnections,
          requests: sum.requests + s.requests,
          errors: sum.errors + s.errors,
          peerResets: sum.peerResets + s.peerResets,
          rejected: sum.rejected + s.rejected,
          refused: sum.refused + s.refused,
          headerTimeouts: sum.headerTimeouts + s.headerTimeouts,
          idleTimeouts: sum.idleTimeouts + s.idleTimeouts,
          rssBytes: sum.rssBytes + s.rssBytes,
        };
      }
      return { ...sum, rssBytes: sum.rssBytes + process.memoryUsage.rss() };
    },
  };
}

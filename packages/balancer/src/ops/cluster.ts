/**
 * Running the balancer as a process: in this process, or as `--workers N` `node:cluster` workers that share
 * the listening sockets.
 *
 * With workers, the primary holds no client connections. It owns what must exist once: the admin API,
 * SIGHUP/SIGTERM handling, the config. Each worker runs a full balancer (its own health checks, counters and
 * logs) for the same config:
 *
 * ```
 *                     ┌──────────── primary ────────────┐
 *   SIGHUP / SIGTERM ─►  config, admin API, /metrics     │
 *                     └──┬────────────┬────────────┬────┘
 *              IPC: start/update/op/stats/close; prom-client metrics requests
 *                  ┌─────▼───┐   ┌────▼────┐   ┌───▼─────┐
 *   clients ──────►│worker 1 │   │worker 2 │   │worker N │ ──► backends
 *  (shared socket) └─────────┘   └─────────┘   └─────────┘
 * ```
 *
 * - Admin operations (drain, weight, add, …) are sent to every worker and succeed only if all of them do.
 * - `GET /backends` sums counters over the workers; `state` is worker 1's, and `stateByWorker` shows the
 *   others (each worker checks health on its own, so for one interval they may disagree).
 * - `/metrics` is prom-client's `AggregatorRegistry`: counters summed, `backend_up` the minimum.
 * - Health checks run N times (once per worker): N× the check traffic of one process.
 * - Connections are spread by Node's cluster scheduling (round-robin from the primary on Linux by default;
 *   `NODE_CLUSTER_SCHED_POLICY=none` lets the kernel hand them out instead).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { createBalancer } from '../balancer.js';
import type { BackendStats, Balancer, BalancerStats, StartResult } from '../balancer-api.js';
import type { BackendConfig } from '../config.js';
import type { BalancerControl } from './admin-api.js';
import { adminStatusOf, localControl } from './admin-api.js';
import { type BalancerFileConfig, parseBalancerConfig } from './config-schema.js';
import { attachBalancerLogging, createBalancerLogger, type Logger } from './logging.js';
import { type BalancerMetrics, createBalancerMetrics } from './metrics.js';

/** A balancer running here or across workers, as the CLI drives it. */
export interface RunningBalancer {
  readonly addresses: StartResult['addresses'];
  /** Admin operations (without reload: the caller owns the config file). */
  readonly control: BalancerControl;
  /** Applies a validated config; `raw` is the JSON it came from (what workers are sent). */
  update(config: BalancerFileConfig, raw: unknown): Promise<void>;
  /** Stops accepting and lets connections finish for up to `deadlineMs`. */
  close(deadlineMs?: number): Promise<void>;
}

/** Runs one balancer in this process, with logs and metrics attached. */
export async function startLocal(config: BalancerFileConfig, logger: Logger): Promise<RunningBalancer> {
  const balancer = createBalancer(config.balancer);
  const detachLogs = attachBalancerLogging(balancer, logger);
  const metrics = createBalancerMetrics(balancer);
  const { addresses } = await balancer.start();
  return {
    addresses,
    control: localControl(balancer, metrics),
    async update(next) {
      await balancer.update(next.balancer);
    },
    async close(deadlineMs) {
      await balancer.close(deadlineMs);
      metrics.detach();
      detachLogs();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// IPC between primary and workers. Every request carries an id; the worker answers with the same id.

type Op =
  | { op: 'stats' }
  | { op: 'update'; raw: unknown }
  | { op: 'drain' | 'enable' | 'disable' | 'remove'; pool: string; id: string }
  | { op: 'add'; pool: string; backend: BackendConfig }
  | { op: 'weight'; pool: string; id: string; weight: number }
  | { op: 'close'; deadlineMs: number | undefined };

type ToWorker = { iolab: 'start'; raw: unknown; logLevel: string } | ({ iolab: 'req'; rid: number } & Op);

type FromWorker =
  | { iolab: 'ready' }
  | { iolab: 'started'; addresses: StartResult['addresses'] }
  | { iolab: 'start-failed'; error: string }
  | { iolab: 'res'; rid: number; ok: true; value: unknown }
  | { iolab: 'res'; rid: number; ok: false; error: { status: number; code: string; message: string } };

/** A worker that has not answered an IPC request by then is stuck; the admin call fails instead of hanging. */
const IPC_TIMEOUT_MS = 10_000;
/** Starting includes binding and, for the first worker, creating the shared handle. */
const WORKER_START_TIMEOUT_MS = 15_000;
/** First respawn delay after a worker dies: long enough not to spin on a crash loop, short for a one-off. */
export const RESPAWN_BASE_DELAY_MS = 100;
/** Respawn delays double per quick death up to this (nginx's master respawns at once; we back off). */
export const RESPAWN_MAX_DELAY_MS = 10_000;
/** A worker that lived this long had a one-off death: its slot's backoff starts over. */
const RESPAWN_STABLE_MS = 10_000;
/**
 * Admin operations remembered for workers started later (respawns), replayed after their `start`. A
 * reload keeps only the drain/enable/disable entries (the new config supersedes weights and backends;
 * admin states survive reloads in the data plane too). Bounded: past it the oldest are forgotten.
 */
const MAX_JOURNAL_ENTRIES = 1024;

function isMessage(m: unknown): m is FromWorker {
  return typeof m === 'object' && m !== null && 'iolab' in m;
}

/** A request to a worker that died before answering: the fan-out answers from the live ones instead. */
class WorkerGoneError extends Error {}

/** A worker's error, relayed: keeps its stable code and HTTP status (the admin API maps it by those). */
class RelayedError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(e: { status: number; code: string; message: string }) {
    super(e.message);
    this.code = e.code;
    this.status = e.status;
  }
}

/**
 * Forks `workers` processes (re-running this process's entry script, which must call
 * {@link runClusterWorker} when `cluster.isWorker`) and starts the balancer in each.
 *
 * Supervision (nginx's master): a worker that dies is logged (`worker-exit`) and respawned into its slot
 * after a backoff (`worker-respawn`: 100 ms doubling to 10 s while it keeps dying young), with the current
 * config and the admin operations made since. Requests only go to live, started workers; one that dies
 * mid-request drops out of that answer rather than failing it.
 */
export async function startCluster(options: {
  workers: number;
  raw: unknown;
  config: BalancerFileConfig;
  logger: Logger;
}): Promise<RunningBalancer> {
  const { logger } = options;
  /** Live and started: the only workers requests go to. */
  const live = new Set<Worker>();
  /** Every forked worker not yet exited (for close). */
  const forked = new Set<Worker>();
  const pending = new Map<
    number,
    { worker: Worker; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  let nextRid = 1;
  let closing = false;
  let currentRaw = options.raw;
  let logLevel = options.config.logLevel;
  let journal: Op[] = [];
  const respawnTimers = new Set<NodeJS.Timeout>();

  const request = (worker: Worker, op: Op): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (!worker.isConnected()) {
        reject(new WorkerGoneError(`worker ${worker.id} is gone`));
        return;
      }
      const rid = nextRid++;
      const timer = setTimeout(() => {
        pending.delete(rid);
        reject(new Error(`worker ${worker.id} did not answer ${op.op} within ${IPC_TIMEOUT_MS} ms`));
      }, IPC_TIMEOUT_MS);
      const settle = () => {
        clearTimeout(timer);
        pending.delete(rid);
      };
      pending.set(rid, {
        worker,
        resolve: (v) => {
          settle();
          resolve(v);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      const message: ToWorker = { iolab: 'req', rid, ...op };
      // The callback reports a channel that closed under us (ERR_IPC_CHANNEL_CLOSED) instead of throwing.
      worker.send(message, (err: Error | null) => {
        if (err) pending.get(rid)?.reject(new WorkerGoneError(`worker ${worker.id}: ${err.message}`));
      });
    });

  /** Fan out to every live worker; workers that die meanwhile are left out. Fails if none answers. */
  const all = async (op: Op): Promise<unknown[]> => {
    const targets = [...live];
    const settled = await Promise.allSettled(targets.map((w) => request(w, op)));
    const values: unknown[] = [];
    for (const r of settled) {
      if (r.status === 'fulfilled') values.push(r.value);
      else if (!(r.reason instanceof WorkerGoneError)) throw r.reason;
    }
    if (values.length === 0) {
      throw {
        status: 503,
        code: 'IOLAB_BALANCER_NO_WORKER',
        message: 'no live worker to answer (respawning)',
      };
    }
    return values;
  };

  const remember = (op: Op): void => {
    journal.push(op);
    if (journal.length > MAX_JOURNAL_ENTRIES) journal.splice(0, journal.length - MAX_JOURNAL_ENTRIES);
  };
  const mutate = async (op: Op): Promise<unknown[]> => {
    const values = await all(op);
    remember(op);
    return values;
  };

  /** Forks one worker and resolves with its addresses once started; `slot` is for logs and backoff. */
  const spawn = (slot: number): Promise<StartResult['addresses']> => {
    const worker = cluster.fork();
    forked.add(worker);
    // Without a listener, an 'error' from a dead channel would be thrown in the primary.
    worker.on('error', (err) =>
      logger.warn({ event: 'worker-ipc-error', worker: worker.id, err: err.message }),
    );
    const bornAt = Date.now();
    return new Promise<StartResult['addresses']>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`worker ${worker.id} did not start within ${WORKER_START_TIMEOUT_MS} ms`));
        worker.kill('SIGKILL');
      }, WORKER_START_TIMEOUT_MS);
      worker.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.iolab === 'ready') {
          // Only now: IPC messages sent before the worker has a 'message' listener are dropped.
          const start: ToWorker = { iolab: 'start', raw: currentRaw, logLevel };
          if (worker.isConnected()) worker.send(start, () => {});
        } else if (m.iolab === 'started') {
          clearTimeout(timer);
          live.add(worker);
          const replay = journal.slice();
          void (async () => {
            for (const op of replay) await request(worker, op).catch(() => {}); // e.g. a backend gone since
          })();
          resolve(m.addresses);
        } else if (m.iolab === 'start-failed') {
          clearTimeout(timer);
          reject(new Error(`worker ${worker.id}: ${m.error}`));
          worker.kill('SIGKILL');
        } else if (m.iolab === 'res') {
          const waiter = pending.get(m.rid);
          if (m.ok) waiter?.resolve(m.value);
          else waiter?.reject(new RelayedError(m.error));
        }
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        live.delete(worker);
        forked.delete(worker);
        for (const w of [...pending.values()]) {
          if (w.worker === worker) w.reject(new WorkerGoneError(`worker ${worker.id} exited`));
        }
        reject(new Error(`worker ${worker.id} exited (${signal ?? code}) before starting`));
        if (closing) return;
        logger.error({ event: 'worker-exit', worker: worker.id, slot, code, signal }, 'worker exited');
        const lived = Date.now() - bornAt;
        const quick = lived < RESPAWN_STABLE_MS;
        backoff[slot] = quick
          ? Math.min(RESPAWN_MAX_DELAY_MS, (backoff[slot] ?? 0) * 2 || RESPAWN_BASE_DELAY_MS)
          : RESPAWN_BASE_DELAY_MS;
        const delayMs = backoff[slot]!;
        logger.warn(
          { event: 'worker-respawn', slot, delayMs, liveWorkers: live.size },
          `respawning worker in ${delayMs} ms`,
        );
        const t = setTimeout(() => {
          respawnTimers.delete(t);
          if (closing) return;
          spawn(slot).then(
            () => logger.info({ event: 'worker-respawned', slot, liveWorkers: live.size }, 'worker back'),
            // Its own exit handler has already scheduled the next attempt.
            (err: unknown) => logger.error({ event: 'worker-respawn-failed', slot, err: String(err) }),
          );
        }, delayMs);
        respawnTimers.add(t);
      });
    });
  };
  const backoff: number[] = [];

  let addresses: StartResult['addresses'];
  try {
    const started = await Promise.all(Array.from({ length: options.workers }, (_, slot) => spawn(slot)));
    addresses = started[0] ?? [];
  } catch (err) {
    closing = true;
    for (const t of respawnTimers) clearTimeout(t);
    for (const w of forked) w.kill('SIGKILL');
    throw err;
  }
  const aggregator = new AggregatorRegistry();

  const control: BalancerControl = {
    async stats() {
      const merged = mergeStats((await all({ op: 'stats' })) as BalancerStats[]);
      return { ...merged, workers: { configured: options.workers, live: live.size } } as BalancerStats;
    },
    drain: async (pool, id) => void (await mutate({ op: 'drain', pool, id })),
    enable: async (pool, id) => void (await mutate({ op: 'enable', pool, id })),
    disable: async (pool, id) => void (await mutate({ op: 'disable', pool, id })),
    removeBackend: async (pool, id) => void (await mutate({ op: 'remove', pool, id })),
    setWeight: async (pool, id, weight) => void (await mutate({ op: 'weight', pool, id, weight })),
    async addBackend(pool, backend) {
      const results = (await mutate({ op: 'add', pool, backend })) as BackendStats[];
      return results[0]!;
    },
    async metrics() {
      return { contentType: aggregator.contentType, body: await aggregator.clusterMetrics() };
    },
  };

  return {
    addresses,
    control,
    async update(config, raw) {
      const targets = new Set(live);
      await all({ op: 'update', raw });
      currentRaw = raw;
      // A worker respawned during the fan-out started with the previous config: bring it up to date.
      for (const w of [...live]) {
        if (!targets.has(w)) await request(w, { op: 'update', raw }).catch(() => {});
      }
      logLevel = config.logLevel;
      journal = journal.filter((op) => op.op === 'drain' || op.op === 'enable' || op.op === 'disable');
    },
    async close(deadlineMs) {
      closing = true;
      for (const t of respawnTimers) clearTimeout(t);
      const workers = [...forked];
      const exits = workers.map(
        (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))),
      );
      await Promise.allSettled(workers.map((w) => request(w, { op: 'close', deadlineMs })));
      for (const w of workers) if (!w.isDead() && w.isConnected()) w.disconnect();
      await Promise.all(exits);
    },
  };
}

/** Sums per-backend and per-listener counters over workers; states come from worker 1 (see file comment). */
function mergeStats(perWorker: BalancerStats[]): BalancerStats {
  const [first, ...rest] = perWorker;
  if (!first) return { listeners: [], pools: [] };
  const merged = structuredClone(first);
  for (const pool of merged.pools) {
    for (const b of pool.backends) {
      (b as BackendStats & { stateByWorker: string[] }).stateByWorker = [b.state];
    }
  }
  for (const other of rest) {
    for (const l of other.listeners) {
      const into = merged.listeners.find((x) => x.name === l.name);
      if (!into) continue;
      into.active += l.active;
      into.total += l.total;
      into.acceptErrors += l.acceptErrors;
    }
    for (const p of other.pools) {
      const pool = merged.pools.find((x) => x.name === p.name);
      if (!pool) continue;
      pool.queued += p.queued;
      for (const b of p.backends) {
        const into = pool.backends.find((x) => x.id === b.id) as
          | (BackendStats & { stateByWorker: string[] })
          | undefined;
        if (!into) continue;
        into.active += b.active;
        into.total += b.total;
        into.failures += b.failures;
        into.consecutiveFailures = Math.max(into.consecutiveFailures, b.consecutiveFailures);
        into.firstByteTimeouts += b.firstByteTimeouts;
        into.consecutiveFirstByteTimeouts = Math.max(
          into.consecutiveFirstByteTimeouts,
          b.consecutiveFirstByteTimeouts,
        );
        into.bytesIn += b.bytesIn;
        into.bytesOut += b.bytesOut;
        into.directed += b.directed;
        into.stateByWorker.push(b.state);
      }
    }
  }
  return merged;
}

/**
 * The worker side: waits for the primary's `start`, runs a balancer, answers requests, exits when told to
 * close or when the primary goes away. Signals are the primary's business (a Ctrl-C reaches the whole
 * process group; the primary decides how to drain).
 */
export function runClusterWorker(): void {
  let balancer: Balancer | undefined;
  let metrics: BalancerMetrics | undefined;
  let logger: Logger | undefined;
  const worker = cluster.worker;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});

  const shutdown = async (deadlineMs?: number): Promise<void> => {
    try {
      await balancer?.close(deadlineMs);
    } finally {
      logger?.flush();
    }
  };
  process.on('disconnect', () => {
    void shutdown().finally(() => process.exit(0));
  });

  process.on('message', (m: ToWorker) => {
    if (typeof m !== 'object' || m === null || !('iolab' in m)) return;
    if (m.iolab === 'start') {
      void (async () => {
        try {
          const config = parseBalancerConfig(m.raw);
          logger = createBalancerLogger({ level: config.logLevel, base: { worker: worker?.id } });
          balancer = createBalancer(config.balancer);
          attachBalancerLogging(balancer, logger);
          metrics = createBalancerMetrics(balancer);
          // Constructing one is what makes prom-client answer the primary's metric requests in a worker.
          void new AggregatorRegistry();
          AggregatorRegistry.setRegistries([metrics.registry]);
          const { addresses } = await balancer.start();
          process.send?.({ iolab: 'started', addresses } satisfies FromWorker);
        } catch (err) {
          process.send?.({ iolab: 'start-failed', error: err instanceof Error ? err.message : String(err) });
        }
      })();
      return;
    }
    if (m.iolab !== 'req') return;
    void (async () => {
      try {
        if (!balancer || !metrics) throw new Error('worker not started');
        const value = await handle(balancer, metrics, m);
        const reply: FromWorker = { iolab: 'res', rid: m.rid, ok: true, value };
        // After `close`, exit once the reply is on its way (exiting at once could drop it).
        if (m.op === 'close') process.send?.(reply, () => process.exit(0));
        else process.send?.(reply);
      } catch (err) {
        process.send?.({
          iolab: 'res',
          rid: m.rid,
          ok: false,
          error: adminStatusOf(err),
        } satisfies FromWorker);
      }
    })();
  });
  process.send?.({ iolab: 'ready' } satisfies FromWorker);

  async function handle(b: Balancer, mx: BalancerMetrics, m: Op): Promise<unknown> {
    const control = localControl(b, mx);
    switch (m.op) {
      case 'stats':
        return control.stats();
      case 'update': {
        const next = parseBalancerConfig(m.raw);
        await b.update(next.balancer);
        if (logger) logger.level = next.logLevel;
        return null;
      }
      case 'drain':
      case 'enable':
      case 'disable':
        await control[m.op](m.pool, m.id);
        return null;
      case 'remove':
        await control.removeBackend(m.pool, m.id);
        return null;
      case 'add':
        return control.addBackend(m.pool, m.backend);
      case 'weight':
        await control.setWeight(m.pool, m.id, m.weight);
        return null;
      case 'close':
        await shutdown(m.deadlineMs);
        return null;
    }
  }
}

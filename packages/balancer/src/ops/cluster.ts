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

function isMessage(m: unknown): m is FromWorker {
  return typeof m === 'object' && m !== null && 'iolab' in m;
}

/**
 * Forks `workers` processes (re-running this process's entry script, which must call
 * {@link runClusterWorker} when `cluster.isWorker`) and starts the balancer in each.
 */
export async function startCluster(options: {
  workers: number;
  raw: unknown;
  config: BalancerFileConfig;
  logger: Logger;
}): Promise<RunningBalancer> {
  const { logger } = options;
  const workers: Worker[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextRid = 1;
  let closing = false;

  const request = (worker: Worker, op: Op): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const rid = nextRid++;
      const timer = setTimeout(() => {
        pending.delete(rid);
        reject(new Error(`worker ${worker.id} did not answer ${op.op} within ${IPC_TIMEOUT_MS} ms`));
      }, IPC_TIMEOUT_MS);
      pending.set(rid, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const message: ToWorker = { iolab: 'req', rid, ...op };
      worker.send(message);
    });
  const all = (op: Op): Promise<unknown[]> => Promise.all(workers.map((w) => request(w, op)));

  const starts = Array.from({ length: options.workers }, () => {
    const worker = cluster.fork();
    workers.push(worker);
    return new Promise<StartResult['addresses']>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${worker.id} did not start within ${WORKER_START_TIMEOUT_MS} ms`)),
        WORKER_START_TIMEOUT_MS,
      );
      worker.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.iolab === 'ready') {
          // Only now: IPC messages sent before the worker has a 'message' listener are dropped.
          const start: ToWorker = { iolab: 'start', raw: options.raw, logLevel: options.config.logLevel };
          worker.send(start);
        } else if (m.iolab === 'started') {
          clearTimeout(timer);
          resolve(m.addresses);
        } else if (m.iolab === 'start-failed') {
          clearTimeout(timer);
          reject(new Error(`worker ${worker.id}: ${m.error}`));
        } else if (m.iolab === 'res') {
          const waiter = pending.get(m.rid);
          pending.delete(m.rid);
          if (m.ok) waiter?.resolve(m.value);
          else waiter?.reject(m.error);
        }
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker ${worker.id} exited (${signal ?? code}) before starting`));
        if (!closing)
          logger.error({ event: 'worker-exit', worker: worker.id, code, signal }, 'worker exited');
      });
    });
  });

  let addresses: StartResult['addresses'];
  try {
    const all = await Promise.all(starts);
    addresses = all[0] ?? [];
  } catch (err) {
    closing = true;
    for (const w of workers) w.kill('SIGKILL');
    throw err;
  }
  const aggregator = new AggregatorRegistry();

  const control: BalancerControl = {
    async stats() {
      return mergeStats((await all({ op: 'stats' })) as BalancerStats[]);
    },
    drain: async (pool, id) => void (await all({ op: 'drain', pool, id })),
    enable: async (pool, id) => void (await all({ op: 'enable', pool, id })),
    disable: async (pool, id) => void (await all({ op: 'disable', pool, id })),
    removeBackend: async (pool, id) => void (await all({ op: 'remove', pool, id })),
    setWeight: async (pool, id, weight) => void (await all({ op: 'weight', pool, id, weight })),
    async addBackend(pool, backend) {
      const results = (await all({ op: 'add', pool, backend })) as BackendStats[];
      return results[0]!;
    },
    async metrics() {
      return { contentType: aggregator.contentType, body: await aggregator.clusterMetrics() };
    },
  };

  return {
    addresses,
    control,
    async update(_config, raw) {
      await all({ op: 'update', raw });
    },
    async close(deadlineMs) {
      closing = true;
      const exits = workers.map(
        (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))),
      );
      await Promise.allSettled(workers.map((w) => request(w, { op: 'close', deadlineMs })));
      for (const w of workers) if (!w.isDead()) w.disconnect();
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

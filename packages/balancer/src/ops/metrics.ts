/**
 * Prometheus metrics (prom-client) for one balancer, in a registry of its own.
 *
 * Counters and gauges that the data plane already counts (`stats()`) are read at scrape time, so the
 * forwarding path does no metrics work per byte; only what `stats()` does not hold (retries, how
 * connections ended, their duration) is counted from events.
 *
 * With `--workers N` each worker has such a registry and the primary sums them
 * (prom-client's `AggregatorRegistry`); see `cluster.ts`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Balancer, BalancerEvents } from '../balancer-api.js';

export interface BalancerMetrics {
  readonly registry: Registry;
  /** Prometheus text exposition format. */
  text(): Promise<string>;
  readonly contentType: string;
  /** Stops listening to the balancer's events. */
  detach(): void;
}

export interface BalancerMetricsOptions {
  /** Also export prom-client's process metrics (CPU, memory, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/** Connection lifetimes span keep-alive minutes down to sub-millisecond refusals. */
const DURATION_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600];

export function createBalancerMetrics(
  balancer: Balancer,
  options: BalancerMetricsOptions = {},
): BalancerMetrics {
  const registry = new Registry();
  const backendLabels = ['pool', 'backend'] as const;

  // Gauges/counters mirrored from stats() at scrape time. `reset()` first so a removed backend's series
  // disappear instead of freezing at their last value. The first metric's `collect` refreshes them all: a
  // registry calls every metric's `get()` in registration order, and each runs its sync `collect` first —
  // this also covers the cluster primary's collection, which never calls `text()` in the worker.
  const active: Gauge = new Gauge({
    name: 'iolab_balancer_backend_connections_active',
    help: 'Proxied connections open or connecting to a backend now',
    labelNames: backendLabels,
    registers: [registry],
    collect: () => refresh(),
  });
  const total = new Counter({
    name: 'iolab_balancer_backend_connections_total',
    help: 'Connections sent to a backend (successful connects)',
    labelNames: backendLabels,
    registers: [registry],
  });
  const connectErrors = new Counter({
    name: 'iolab_balancer_backend_connect_errors_total',
    help: 'Failed connects to a backend (refused, timed out, reset while connecting)',
    labelNames: backendLabels,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'iolab_balancer_backend_bytes_total',
    help: 'Bytes forwarded; direction="in" is client to backend, "out" backend to client',
    labelNames: [...backendLabels, 'direction'],
    registers: [registry],
  });
  const up = new Gauge({
    name: 'iolab_balancer_backend_up',
    help: '1 when health checks consider the backend up (regardless of drain/disable)',
    labelNames: backendLabels,
    registers: [registry],
    aggregator: 'min',
  });
  const state = new Gauge({
    name: 'iolab_balancer_backend_state',
    help: "1 for the backend's effective state (up, down, draining, disabled); with workers, how many agree",
    labelNames: [...backendLabels, 'state'],
    registers: [registry],
  });
  const weight = new Gauge({
    name: 'iolab_balancer_backend_weight',
    help: 'Configured weight of a backend',
    labelNames: backendLabels,
    registers: [registry],
    aggregator: 'max',
  });
  const queued = new Gauge({
    name: 'iolab_balancer_pool_queue_length',
    help: 'Connections waiting for a maxconn slot in a pool',
    labelNames: ['pool'],
    registers: [registry],
  });
  const listenerActive = new Gauge({
    name: 'iolab_balancer_listener_connections_active',
    help: 'Client connections open on a listener now',
    labelNames: ['listener'],
    registers: [registry],
  });
  const listenerTotal = new Counter({
    name: 'iolab_balancer_listener_connections_total',
    help: 'Client connections accepted by a listener',
    labelNames: ['listener'],
    registers: [registry],
  });
  const acceptErrors = new Counter({
    name: 'iolab_balancer_listener_accept_errors_total',
    help: 'Accept errors (EMFILE, ENFILE, ...) on a listener',
    labelNames: ['listener'],
    registers: [registry],
  });

  const refresh = (): void => {
    const stats = balancer.stats();
    for (const m of [active, total, connectErrors, bytes, up, state, weight, queued]) m.reset();
    for (const pool of stats.pools) {
      queued.set({ pool: pool.name }, pool.queued);
      for (const b of pool.backends) {
        const labels = { pool: pool.name, backend: b.id };
        active.set(labels, b.active);
        total.inc(labels, b.total);
        connectErrors.inc(labels, b.failures);
        bytes.inc({ ...labels, direction: 'in' }, b.bytesIn);
        bytes.inc({ ...labels, direction: 'out' }, b.bytesOut);
        up.set(labels, b.healthy ? 1 : 0);
        state.set({ ...labels, state: b.state }, 1);
        weight.set(labels, b.weight);
      }
    }
    for (const m of [listenerActive, listenerTotal, acceptErrors]) m.reset();
    for (const l of stats.listeners) {
      listenerActive.set({ listener: l.name }, l.active);
      listenerTotal.inc({ listener: l.name }, l.total);
      acceptErrors.inc({ listener: l.name }, l.acceptErrors);
    }
  };

  // Counted from events: what stats() does not keep.
  const retries = new Counter({
    name: 'iolab_balancer_retries_total',
    help: 'Connect attempts that failed and were retried on another backend',
    labelNames: ['pool'],
    registers: [registry],
  });
  const closed = new Counter({
    name: 'iolab_balancer_connections_closed_total',
    help: 'Finished client connections by who closed first and why',
    labelNames: ['pool', 'closed_by', 'reason'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'iolab_balancer_connection_duration_seconds',
    help: 'Lifetime of client connections',
    labelNames: ['pool'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const queueEvents = new Counter({
    name: 'iolab_balancer_queue_events_total',
    help: 'Queue events: enqueued, dequeued, timeout, full',
    labelNames: ['pool', 'action'],
    registers: [registry],
  });
  const onConnectError = (e: BalancerEvents['connect-error']): void => {
    if (e.willRetry) retries.inc({ pool: e.pool });
  };
  const onEnd = (e: BalancerEvents['connection-end']): void => {
    closed.inc({ pool: e.pool, closed_by: e.closedBy, reason: e.reason });
    duration.observe({ pool: e.pool }, e.durationMs / 1000);
  };
  const onQueue = (e: BalancerEvents['queue']): void => {
    queueEvents.inc({ pool: e.pool, action: e.action });
  };
  balancer.on('connect-error', onConnectError);
  balancer.on('connection-end', onEnd);
  balancer.on('queue', onQueue);

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    text() {
      return registry.metrics();
    },
    detach() {
      balancer.off('connect-error', onConnectError);
      balancer.off('connection-end', onEnd);
      balancer.off('queue', onQueue);
    },
  };
}

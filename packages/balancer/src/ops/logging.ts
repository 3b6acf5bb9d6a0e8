/**
 * Structured logs (pino, one JSON object per line) on stderr, so stdout stays free for the one
 * `listening on HOST:PORT` line scripts wait for.
 *
 * Events and levels:
 *
 * | event             | level | when                                                                 |
 * |-------------------|-------|----------------------------------------------------------------------|
 * | `connection-end`  | info  | every proxied/directed connection, once, with bytes/duration/closer  |
 * | `backend-state`   | warn when a backend goes down, info otherwise                                |
 * | `connect-error`   | warn  | a connect to a backend failed (`willRetry` says if another follows)  |
 * | `queue`           | warn for `full`/`timeout`, debug for enqueued/dequeued                       |
 * | `accept-error`    | error | EMFILE & co; accepting paused                                        |
 * | `health-check`    | debug | every active check                                                   |
 */
import pino, { type Logger } from 'pino';
import type { Balancer, BalancerEvents } from '../balancer-api.js';
import type { LogLevel } from './config-schema.js';

export type { Logger } from 'pino';

export interface BalancerLoggerOptions {
  level?: LogLevel;
  /** Extra fields on every line, e.g. `{ worker: 2 }`. */
  base?: Record<string, unknown>;
  /** File descriptor to write to; default 2 (stderr). */
  fd?: number;
  /**
   * Write synchronously. Default false: an async writer keeps logging off the forwarding path; call
   * `logger.flush()` before exiting so the last lines are not lost.
   */
  sync?: boolean;
}

/** A pino logger writing JSON lines to stderr. */
export function createBalancerLogger(options: BalancerLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: options.fd ?? 2, sync: options.sync ?? false }),
  );
}

/** Subscribes `logger` to a balancer's events; returns a function that unsubscribes. */
export function attachBalancerLogging(balancer: Balancer, logger: Logger): () => void {
  const onEnd = (e: BalancerEvents['connection-end']): void => {
    logger.info(
      {
        event: 'connection-end',
        listener: e.listener,
        pool: e.pool,
        client: `${e.clientAddress}:${e.clientPort}`,
        backend: e.backend ?? null,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        durationMs: Math.round(e.durationMs * 1000) / 1000,
        closedBy: e.closedBy,
        reason: e.reason,
        ...(e.error !== undefined ? { error: e.error } : {}),
        attempts: e.attempts,
      },
      'connection end',
    );
  };
  const onState = (e: BalancerEvents['backend-state']): void => {
    const fields = { event: 'backend-state', ...e };
    if (e.to === 'down') logger.warn(fields, `backend ${e.backend} ${e.from} -> ${e.to}`);
    else logger.info(fields, `backend ${e.backend} ${e.from} -> ${e.to}`);
  };
  const onConnectError = (e: BalancerEvents['connect-error']): void => {
    logger.warn({ event: 'connect-error', ...e }, `connect to ${e.backend} failed`);
  };
  const onQueue = (e: BalancerEvents['queue']): void => {
    if (e.action === 'full' || e.action === 'timeout')
      logger.warn({ event: 'queue', ...e }, `queue ${e.action}`);
    else logger.debug({ event: 'queue', ...e }, `queue ${e.action}`);
  };
  const onAcceptError = (e: BalancerEvents['accept-error']): void => {
    logger.error({ event: 'accept-error', ...e }, `accept failed (${e.error}); paused ${e.pausedMs} ms`);
  };
  const onHealth = (e: BalancerEvents['health-check']): void => {
    logger.debug({ event: 'health-check', ...e }, `check ${e.backend} ${e.ok ? 'ok' : 'failed'}`);
  };
  balancer.on('connection-end', onEnd);
  balancer.on('backend-state', onState);
  balancer.on('connect-error', onConnectError);
  balancer.on('queue', onQueue);
  balancer.on('accept-error', onAcceptError);
  balancer.on('health-check', onHealth);
  return () => {
    balancer.off('connection-end', onEnd);
    balancer.off('backend-state', onState);
    balancer.off('connect-error', onConnectError);
    balancer.off('queue', onQueue);
    balancer.off('accept-error', onAcceptError);
    balancer.off('health-check', onHealth);
  };
}

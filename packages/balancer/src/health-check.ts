/**
 * Active health checks: a TCP connect to the backend, optionally a request and an expected reply
 * (HAProxy `option tcp-check` with `tcp-check send` / `expect`). One check at a time per backend, the next
 * scheduled `interval` after the previous one finished, so a slow backend never has checks piling up.
 */

import { connect } from 'node:net';
import { DEFAULT_MAX_HEALTH_REPLY_BYTES, type ResolvedHealth } from './config.js';

export interface CheckResult {
  ok: boolean;
  durationMs: number;
  /** Why it failed (`ECONNREFUSED`, `timeout`, `reply did not match` …). */
  detail?: string;
}

/** One check against host:port, settled within `health.timeout`. Never rejects. */
export function runHealthCheck(host: string, port: number, health: ResolvedHealth): Promise<CheckResult> {
  const started = performance.now();
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let reply = '';
    const sock = connect({ host, port });
    const finish = (ok: boolean, detail?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const r: CheckResult = { ok, durationMs: performance.now() - started };
      if (detail !== undefined) r.detail = detail;
      resolve(r);
    };
    const timer = setTimeout(() => finish(false, `timeout after ${health.timeout} ms`), health.timeout);
    sock.on('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    sock.on('connect', () => {
      if (health.send !== undefined) sock.write(health.send);
      if (health.expect === undefined) finish(true);
    });
    sock.on('data', (chunk: Buffer) => {
      const expect = health.expect;
      if (expect === undefined) return;
      reply += chunk.toString('latin1');
      if (typeof expect === 'string' ? reply.includes(expect) : reply.search(expect) !== -1) finish(true);
      else if (reply.length >= DEFAULT_MAX_HEALTH_REPLY_BYTES) {
        finish(false, `no match in the first ${DEFAULT_MAX_HEALTH_REPLY_BYTES} reply bytes`);
      }
    });
    sock.on('end', () => finish(false, 'closed before the expected reply'));
    sock.on('close', () => finish(false, 'closed before the expected reply'));
  });
}

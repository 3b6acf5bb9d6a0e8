/**
 * The admin HTTP API (node:http, JSON in and out), on 127.0.0.1 unless configured otherwise.
 *
 * | method + path                                   | body                         | does                              |
 * |-------------------------------------------------|------------------------------|-----------------------------------|
 * | GET    /backends                                |                              | pools with backends, state, counters |
 * | GET    /stats                                   |                              | listeners + pools (full stats)    |
 * | POST   /pools/:pool/backends                    | `{"host","port",…}`          | add a backend (201)               |
 * | DELETE /pools/:pool/backends/:id                |                              | remove (drains, then forgets)     |
 * | POST   /pools/:pool/backends/:id/remove         |                              | same as DELETE                    |
 * | POST   /pools/:pool/backends/:id/drain          |                              | no new connections                |
 * | POST   /pools/:pool/backends/:id/disable        |                              | maintenance, checks stop          |
 * | POST   /pools/:pool/backends/:id/enable         |                              | back to normal                    |
 * | POST   /pools/:pool/backends/:id/weight         | `{"weight": 3}`              | set weight                        |
 * | POST   /reload                                  |                              | reload the config file (= SIGHUP) |
 * | GET    /metrics                                 |                              | Prometheus text format            |
 * | GET    /healthz                                 |                              | `{"ok":true}`                     |
 *
 * `:id` is the backend id (default `host:port`, URL-encode it if it holds `/`). Errors are
 * `{"error":{"code","message"}}` with 400 (bad input), 404 (unknown pool/backend/route), 409 (duplicate),
 * 405 (wrong method) or 500.
 *
 * The API talks to a {@link BalancerControl}, not to a balancer, so the same server fronts one process or
 * a cluster primary that fans operations out to its workers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BackendStats, Balancer, BalancerStats } from '../balancer-api.js';
import type { BackendConfig } from '../config.js';
import { BalancerError } from '../errors.js';
import { parseBackendJson } from './config-schema.js';
import type { BalancerMetrics } from './metrics.js';

/** A JSON body larger than this is not a backend definition; refusing it keeps memory bounded. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** What the admin API can ask of a balancer (one process, or a cluster of them). */
export interface BalancerControl {
  stats(): Promise<BalancerStats>;
  drain(pool: string, id: string): Promise<void>;
  enable(pool: string, id: string): Promise<void>;
  disable(pool: string, id: string): Promise<void>;
  addBackend(pool: string, backend: BackendConfig): Promise<BackendStats>;
  removeBackend(pool: string, id: string): Promise<void>;
  setWeight(pool: string, id: string, weight: number): Promise<void>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Reload the config file; absent when the process has none. */
  reload?(): Promise<void>;
}

/** A {@link BalancerControl} over one in-process balancer. */
export function localControl(
  balancer: Balancer,
  metrics: BalancerMetrics,
  reload?: () => Promise<void>,
): BalancerControl {
  return {
    stats: async () => balancer.stats(),
    drain: async (pool, id) => balancer.drain(pool, id),
    enable: async (pool, id) => balancer.enable(pool, id),
    disable: async (pool, id) => balancer.disable(pool, id),
    addBackend: async (pool, backend) => balancer.addBackend(pool, backend),
    removeBackend: async (pool, id) => balancer.removeBackend(pool, id),
    setWeight: async (pool, id, weight) => balancer.setWeight(pool, id, weight),
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    ...(reload ? { reload } : {}),
  };
}

export interface AdminServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof BalancerError) {
    const status =
      err.code === 'IOLAB_BALANCER_UNKNOWN_POOL' || err.code === 'IOLAB_BALANCER_UNKNOWN_BACKEND'
        ? 404
        : err.code === 'IOLAB_BALANCER_DUPLICATE_BACKEND'
          ? 409
          : err.code === 'IOLAB_BALANCER_CONFIG_INVALID'
            ? 400
            : 500;
    return { status, code: err.code, message: err.message };
  }
  // Errors relayed from cluster workers arrive as plain objects carrying the worker's code.
  const coded = err as { code?: unknown; message?: unknown; status?: unknown };
  if (typeof coded?.code === 'string' && typeof coded.status === 'number') {
    return { status: coded.status, code: coded.code, message: String(coded.message) };
  }
  return {
    status: 500,
    code: 'IOLAB_ADMIN_INTERNAL',
    message: err instanceof Error ? err.message : String(err),
  };
}

/** HTTP status an error maps to; exported for the cluster primary, which relays worker errors. */
export function adminStatusOf(err: unknown): { status: number; code: string; message: string } {
  return statusOf(err);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ADMIN_BODY_BYTES) {
        reject(new HttpError(413, 'IOLAB_ADMIN_BODY_TOO_LARGE', `body over ${MAX_ADMIN_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(
          new HttpError(400, 'IOLAB_ADMIN_BAD_JSON', `body is not valid JSON: ${(err as Error).message}`),
        );
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const BACKEND_ROUTE = /^\/pools\/([^/]+)\/backends(?:\/([^/]+)(?:\/(drain|enable|disable|weight|remove))?)?$/;

async function route(control: BalancerControl, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '') || '/';

  if (path === '/metrics') {
    if (method !== 'GET') throw new HttpError(405, 'IOLAB_ADMIN_METHOD', 'use GET');
    const { contentType, body } = await control.metrics();
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (path === '/healthz') return send(res, 200, { ok: true });
  if (path === '/backends' || path === '/stats') {
    if (method !== 'GET') throw new HttpError(405, 'IOLAB_ADMIN_METHOD', 'use GET');
    const stats = await control.stats();
    return send(res, 200, path === '/stats' ? stats : { pools: stats.pools });
  }
  if (path === '/reload') {
    if (method !== 'POST') throw new HttpError(405, 'IOLAB_ADMIN_METHOD', 'use POST');
    if (!control.reload) throw new HttpError(409, 'IOLAB_ADMIN_NO_CONFIG_FILE', 'started without --config');
    await control.reload();
    return send(res, 200, { ok: true });
  }
  const match = BACKEND_ROUTE.exec(path);
  if (!match) throw new HttpError(404, 'IOLAB_ADMIN_NOT_FOUND', `no route ${method} ${path}`);
  const pool = decodeURIComponent(match[1]!);
  const id = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  const action = match[3];

  if (id === undefined) {
    if (method === 'GET') {
      const stats = await control.stats();
      const found = stats.pools.find((p) => p.name === pool);
      if (!found)
        throw new HttpError(404, 'IOLAB_BALANCER_UNKNOWN_POOL', `no pool named ${JSON.stringify(pool)}`);
      return send(res, 200, found);
    }
    if (method !== 'POST') throw new HttpError(405, 'IOLAB_ADMIN_METHOD', 'use GET or POST');
    const backend = parseBackendJson(await readJson(req));
    return send(res, 201, await control.addBackend(pool, backend));
  }
  if (action === undefined) {
    if (method === 'DELETE') {
      await control.removeBackend(pool, id);
      return send(res, 200, { ok: true });
    }
    if (method !== 'GET') throw new HttpError(405, 'IOLAB_ADMIN_METHOD', 'use GET or DELETE');
    const stats = await control.stats();
    const backend = stats.pools.find((p) => p.name === pool)?.backends.find((b) => b.id === id);
    if (!backend)
      throw new HttpError(404, 'IOLAB_BALANCER_UNKNOWN_BACKEND', `no backend ${JSON.stringify(id)}`);
    return send(res, 200, backend);
  }
  if (method !== 'POST') throw new HttpError(405, 'IOLAB_ADMIN_METHOD', 'use POST');
  switch (action) {
    case 'drain':
      await control.drain(pool, id);
      break;
    case 'enable':
      await control.enable(pool, id);
      break;
    case 'disable':
      await control.disable(pool, id);
      break;
    case 'remove':
      await control.removeBackend(pool, id);
      break;
    case 'weight': {
      const body = (await readJson(req)) as { weight?: unknown } | undefined;
      const weight = body?.weight;
      if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0) {
        throw new HttpError(
          400,
          'IOLAB_BALANCER_CONFIG_INVALID',
          `/weight: must be an integer >= 0 (got ${JSON.stringify(weight)})`,
        );
      }
      await control.setWeight(pool, id, weight);
      break;
    }
  }
  return send(res, 200, { ok: true });
}

/** Starts the admin API. `port` 0 picks a free port (see `.port`). */
export function startAdminServer(
  control: BalancerControl,
  options: { host: string; port: number; onError?: (err: unknown) => void },
): Promise<AdminServer> {
  const server = createServer((req, res) => {
    route(control, req, res).catch((err: unknown) => {
      const { status, code, message } = statusOf(err);
      if (status >= 500) options.onError?.(err);
      if (!res.headersSent) send(res, status, { error: { code, message } });
      else res.destroy();
    });
  });
  // Admin clients are few and short-lived; a stuck one must not hold a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        server,
        host: options.host,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

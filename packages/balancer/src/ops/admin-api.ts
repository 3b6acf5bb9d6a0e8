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
 *
 * Who may use it — only the operator, not any web page open on the operator's machine:
 *
 * | check (in this order)                                      | else                                   |
 * |------------------------------------------------------------|----------------------------------------|
 * | path is well-formed (valid percent-encoding)               | 400 `IOLAB_ADMIN_BAD_PATH`              |
 * | `Host` is the admin's own address or a loopback name (TCP) | 403 `IOLAB_ADMIN_BAD_HOST` (DNS rebinding) |
 * | no `Origin`, or `Origin` is the admin's own origin         | 403 `IOLAB_ADMIN_BAD_ORIGIN` (CSRF)     |
 * | `Authorization: Bearer <token>` matches (when a token is set) | 401 `IOLAB_ADMIN_UNAUTHORIZED`       |
 * | mutating methods carry `Content-Type: application/json`    | 415 `IOLAB_ADMIN_CONTENT_TYPE`          |
 *
 * The content-type rule closes what a browser sends cross-origin without a CORS preflight (a "simple"
 * `text/plain` or form POST); the Origin and Host rules close DNS rebinding and same-machine pages; the
 * token closes everything else that can reach the port. A Unix-socket listener (`--admin unix:/path`) is
 * guarded by the socket file's permissions (0600, HAProxy's runtime API model); a token, when one is set,
 * is checked there too. The API refuses to listen on a non-loopback address without a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import type { BackendStats, Balancer, BalancerStats } from '../balancer-api.js';
import type { BackendConfig } from '../config.js';
import { checkWeight, formatHostPort, resolveBackend } from '../config-resolve.js';
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
  /** TCP host, or `unix:` + path for a Unix-socket listener. */
  readonly host: string;
  /** TCP port; 0 for a Unix socket. */
  readonly port: number;
  /** `HOST:PORT` or `unix:/path`, as printed in `admin on …`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Where the admin API listens: TCP `{host, port}` or a Unix socket `{path}`. */
export type AdminListen = { host: string; port: number } | { path: string };

export interface AdminServerOptions {
  /** Required on every request as `Authorization: Bearer <token>`; required for a non-loopback host. */
  token?: string | undefined;
  onError?: (err: unknown) => void;
}

/** Shortest token accepted: 128 bits as base64url is 22 characters; 16 keeps guessable words out. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Loopback names a `Host` header may carry besides the admin's own address. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** Host header → [name, port]; undefined when it is not `name[:port]`. */
function splitHostHeader(h: string): [string, number | undefined] | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return undefined;
  return [m[1]!.toLowerCase(), m[2] === undefined ? undefined : Number(m[2])];
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
            : err.code === 'IOLAB_BALANCER_LISTEN_FAILED'
              ? 409 // a reload whose listener cannot bind: the old config keeps serving
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
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // Nothing here is for a browser to cache or to frame.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'IOLAB_ADMIN_BAD_PATH', `malformed percent-encoding in ${JSON.stringify(s)}`);
  }
}

/** The access checks of the table at the top of this file, for one request. */
class Guard {
  #tokenDigest: Buffer | undefined;
  /** Allowed `Host` names (lower case, IPv6 bracketed) and the port they must name; undefined for Unix. */
  #hosts: Set<string> | undefined;
  #port = 0;
  /**
   * Bound to 0.0.0.0 / `::`: "own address" is any local address, so any IP-literal Host is accepted. That
   * keeps DNS rebinding out all the same: rebinding needs a host *name* the attacker controls.
   */
  #wildcard = false;

  constructor(token: string | undefined) {
    this.#tokenDigest = token === undefined ? undefined : digest(token);
  }

  /** Called once bound: the admin's own address joins the loopback names. */
  bound(listen: AdminListen, port: number): void {
    if ('path' in listen) return;
    this.#port = port;
    this.#hosts = new Set(LOOPBACK_NAMES);
    const own = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    this.#hosts.add(own.toLowerCase());
    this.#wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  }

  check(req: IncomingMessage): void {
    const method = req.method ?? 'GET';
    if (this.#hosts !== undefined) {
      const parsed = splitHostHeader(req.headers.host ?? '');
      if (
        parsed === undefined ||
        !this.#hostAllowed(parsed[0]) ||
        (parsed[1] !== undefined && parsed[1] !== this.#port)
      ) {
        throw new HttpError(
          403,
          'IOLAB_ADMIN_BAD_HOST',
          `Host ${JSON.stringify(req.headers.host ?? '')} is not this admin API's address or a loopback name`,
        );
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#ownOrigin(origin)) {
      throw new HttpError(
        403,
        'IOLAB_ADMIN_BAD_ORIGIN',
        `cross-origin request from ${JSON.stringify(origin)}`,
      );
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      throw new HttpError(403, 'IOLAB_ADMIN_BAD_ORIGIN', 'cross-site request (Sec-Fetch-Site)');
    }
    if (this.#tokenDigest !== undefined) {
      const m = /^Bearer ([\x21-\x7e]+)$/.exec(req.headers.authorization ?? '');
      if (!m || !timingSafeEqual(digest(m[1]!), this.#tokenDigest)) {
        throw new HttpError(401, 'IOLAB_ADMIN_UNAUTHORIZED', 'missing or wrong Authorization: Bearer token');
      }
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        throw new HttpError(
          415,
          'IOLAB_ADMIN_CONTENT_TYPE',
          `${method} needs Content-Type: application/json (got ${JSON.stringify(req.headers['content-type'] ?? '')})`,
        );
      }
    }
  }

  #ownOrigin(origin: string): boolean {
    if (this.#hosts === undefined) return false; // a Unix socket has no web origin at all
    const m = /^http:\/\/(.+)$/.exec(origin);
    const parsed = m ? splitHostHeader(m[1]!) : undefined;
    return parsed !== undefined && this.#hostAllowed(parsed[0]) && parsed[1] === this.#port;
  }

  #hostAllowed(name: string): boolean {
    if (this.#hosts?.has(name)) return true;
    return this.#wildcard && isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0;
  }
}

function digest(s: string): Buffer {
  // Equal-length digests make timingSafeEqual applicable whatever the token's length.
  return createHash('sha256').update(s, 'utf8').digest();
}

const BACKEND_ROUTE = /^\/pools\/([^/]+)\/backends(?:\/([^/]+)(?:\/(drain|enable|disable|weight|remove))?)?$/;

async function route(
  control: BalancerControl,
  guard: Guard,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://admin');
  } catch {
    throw new HttpError(400, 'IOLAB_ADMIN_BAD_PATH', `malformed request target ${JSON.stringify(req.url)}`);
  }
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '') || '/';
  // Every segment must decode before anything else runs: a bad one is the client's error (400), not ours.
  for (const seg of path.split('/')) decodeSegment(seg);
  guard.check(req);

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
  const pool = decodeSegment(match[1]!);
  const id = match[2] === undefined ? undefined : decodeSegment(match[2]);
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
    // The data plane's own checks (host is an IP or RFC 1123 name, weight cap …) before any worker sees it.
    resolveBackend(backend, '');
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
      // The same check as the config file's (schema maximum = MAX_WEIGHT): throws a 400 naming the cap.
      const weight = checkWeight(body?.weight, '/weight');
      await control.setWeight(pool, id, weight);
      break;
    }
  }
  return send(res, 200, { ok: true });
}

/**
 * Starts the admin API on TCP (`port` 0 picks a free port, see `.port`) or on a Unix socket (created 0600;
 * a stale socket file at the path is replaced). Rejects a non-loopback TCP host without a token.
 */
export function startAdminServer(
  control: BalancerControl,
  options: AdminListen & AdminServerOptions,
): Promise<AdminServer> {
  const token = options.token;
  if (token !== undefined && token.length < MIN_ADMIN_TOKEN_LENGTH) {
    return Promise.reject(new Error(`the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`));
  }
  const listen: AdminListen =
    'path' in options ? { path: options.path } : { host: options.host, port: options.port };
  if (!('path' in listen) && token === undefined && !isLoopbackHost(listen.host)) {
    return Promise.reject(
      new Error(
        `refusing to serve the admin API on non-loopback ${listen.host} without a token (--admin-token or IOLAB_ADMIN_TOKEN)`,
      ),
    );
  }
  const guard = new Guard(token);
  const server = createServer((req, res) => {
    route(control, guard, req, res).catch((err: unknown) => {
      const { status, code, message } = statusOf(err);
      if (status >= 500) options.onError?.(err);
      if (!res.headersSent) {
        if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="iolab-balancer admin"');
        send(res, status, { error: { code, message } });
      } else res.destroy();
    });
  });
  // Admin clients are few and short-lived; a stuck one must not hold a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = () => {
      server.off('error', reject);
      const path = 'path' in listen ? listen.path : undefined;
      if (path !== undefined) {
        try {
          // listen() creates the socket with the umask's mode; tighten it before anyone can connect.
          chmodSync(path, 0o600);
        } catch (err) {
          server.close();
          reject(err);
          return;
        }
      }
      const port = path === undefined ? (server.address() as AddressInfo).port : 0;
      guard.bound(listen, port);
      const host = path === undefined ? (listen as { host: string }).host : `unix:${path}`;
      resolve({
        server,
        host,
        port,
        address: path === undefined ? formatHostPort(host, port) : host,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    };
    if ('path' in listen) {
      // A socket file left by a crashed run would make listen() fail with EADDRINUSE.
      // Only a socket is removed: a typo naming a regular file must fail, not delete the file.
      if (lstatSync(listen.path, { throwIfNoEntry: false })?.isSocket()) rmSync(listen.path);
      // Created under a umask that leaves it owner-only from the first moment, then chmod'ed to be sure.
      const old = process.umask(0o177);
      try {
        server.listen(listen.path, onListening);
      } finally {
        process.umask(old);
      }
    } else server.listen(listen.port, listen.host, onListening);
  });
}

import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, countBy, startBackend, startBalancer, whoServes } from '../test-support.js';
import { type AdminServer, localControl, startAdminServer } from './admin-api.js';
import { createBalancerMetrics } from './metrics.js';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
  await cleanup();
});

async function setup() {
  const a = await startBackend('A');
  const b = await startBackend('B');
  const { lb, port } = await startBalancer({
    listeners: [{ port: 0, pool: 'web' }],
    pools: [
      {
        name: 'web',
        policy: 'weighted',
        health: { enabled: false },
        backends: [
          { id: 'a', host: '127.0.0.1', port: a.port },
          { id: 'b', host: '127.0.0.1', port: b.port },
        ],
      },
    ],
  });
  const metrics = createBalancerMetrics(lb, { processMetrics: false });
  admin = await startAdminServer(localControl(lb, metrics), { host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${admin.port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  };
  const serve = async (n: number) =>
    countBy(await Promise.all(Array.from({ length: n }, () => whoServes(port))));
  return { a, b, port, call, serve };
}

/** Parses Prometheus text format into `name{labels}` → value; throws on a line that is not valid. */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/.exec(
        line,
      );
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

describe('admin API', () => {
  it('lists backends with state and counters', async () => {
    const { call, serve } = await setup();
    await serve(4);
    const res = await call('GET', '/backends');
    expect(res.status).toBe(200);
    const pools = res.json!.pools as {
      name: string;
      backends: { id: string; state: string; total: number }[];
    }[];
    expect(pools[0]!.name).toBe('web');
    expect(pools[0]!.backends.map((b) => [b.id, b.state])).toEqual([
      ['a', 'up'],
      ['b', 'up'],
    ]);
    expect(pools[0]!.backends.reduce((s, b) => s + b.total, 0)).toBe(4);
  });

  it('drain, disable and enable change where new connections go', async () => {
    const { call, serve } = await setup();
    expect((await call('POST', '/pools/web/backends/a/drain')).status).toBe(200);
    expect(await serve(6)).toEqual({ B: 6 });
    const listed = (await call('GET', '/pools/web/backends/a')).json!;
    expect(listed.state).toBe('draining');
    expect((await call('POST', '/pools/web/backends/a/enable')).status).toBe(200);
    expect((await call('POST', '/pools/web/backends/b/disable')).status).toBe(200);
    expect(await serve(6)).toEqual({ A: 6 });
    await call('POST', '/pools/web/backends/b/enable');
    expect(await serve(6)).toEqual({ A: 3, B: 3 });
  });

  it('set weight, add and remove change the distribution', async () => {
    const { call, serve } = await setup();
    expect((await call('POST', '/pools/web/backends/a/weight', { weight: 3 })).status).toBe(200);
    expect(await serve(8)).toEqual({ A: 6, B: 2 });

    const c = await startBackend('C');
    const added = await call('POST', '/pools/web/backends', {
      id: 'c',
      host: '127.0.0.1',
      port: c.port,
      weight: 4,
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: 'c', weight: 4 });
    await call('DELETE', '/pools/web/backends/a');
    expect((await call('POST', '/pools/web/backends/b/remove')).status).toBe(200);
    expect(await serve(5)).toEqual({ C: 5 });
  });

  it('answers bad requests with a status and a coded error, and keeps serving', async () => {
    const { call } = await setup();
    const unknown = await call('POST', '/pools/web/backends/zzz/drain');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: 'IOLAB_BALANCER_UNKNOWN_BACKEND' } });
    expect((await call('POST', '/pools/nope/backends/a/drain')).json).toMatchObject({
      error: { code: 'IOLAB_BALANCER_UNKNOWN_POOL' },
    });
    const badWeight = await call('POST', '/pools/web/backends/a/weight', { weight: -1 });
    expect(badWeight.status).toBe(400);
    const badJson = await call('POST', '/pools/web/backends', '{nope');
    expect(badJson.json).toMatchObject({ error: { code: 'IOLAB_ADMIN_BAD_JSON' } });
    const badBackend = await call('POST', '/pools/web/backends', { host: 'x', port: 0 });
    expect(badBackend.status).toBe(400);
    expect(String((badBackend.json!.error as { message: string }).message)).toContain('/port');
    const dup = await call('POST', '/pools/web/backends', { id: 'a', host: '127.0.0.1', port: 1 });
    expect(dup.status).toBe(409);
    expect((await call('GET', '/nowhere')).status).toBe(404);
    expect((await call('DELETE', '/backends')).status).toBe(405);
    expect((await call('GET', '/healthz')).json).toEqual({ ok: true });
  });

  it('/metrics is valid Prometheus text with per-backend counters and state', async () => {
    const { call, serve } = await setup();
    await serve(4);
    await call('POST', '/pools/web/backends/b/drain');
    const res = await fetch(`http://127.0.0.1:${admin!.port}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const m = parseProm(await res.text());
    expect(m.get('iolab_balancer_backend_connections_total{pool="web",backend="a"}')).toBe(2);
    expect(m.get('iolab_balancer_backend_connections_total{pool="web",backend="b"}')).toBe(2);
    expect(m.get('iolab_balancer_backend_connections_active{pool="web",backend="a"}')).toBe(0);
    expect(m.get('iolab_balancer_backend_up{pool="web",backend="a"}')).toBe(1);
    expect(m.get('iolab_balancer_backend_state{pool="web",backend="b",state="draining"}')).toBe(1);
    expect(
      m.get('iolab_balancer_backend_bytes_total{pool="web",backend="a",direction="out"}'),
    ).toBeGreaterThan(0);
    expect(m.get('iolab_balancer_pool_queue_length{pool="web"}')).toBe(0);
    expect(m.get('iolab_balancer_listener_connections_total{listener="127.0.0.1:0"}')).toBe(4);
    expect(m.get('iolab_balancer_connection_duration_seconds_count{pool="web"}')).toBe(4);
    expect([...m.keys()].some((k) => k.startsWith('iolab_balancer_backend_connect_errors_total'))).toBe(true);
  });

  it('counts connect errors and retries when a backend refuses', async () => {
    const a = await startBackend('A');
    const dead = await startBackend('dead');
    await dead.kill();
    const { lb, port } = await startBalancer({
      listeners: [{ port: 0, pool: 'web' }],
      pools: [
        {
          name: 'web',
          health: { enabled: false },
          backends: [
            { id: 'dead', host: '127.0.0.1', port: dead.port },
            { id: 'a', host: '127.0.0.1', port: a.port },
          ],
        },
      ],
    });
    const metrics = createBalancerMetrics(lb, { processMetrics: false });
    for (let i = 0; i < 4; i++) expect(await whoServes(port)).toBe('A');
    const m = parseProm(await metrics.text());
    expect(m.get('iolab_balancer_backend_connect_errors_total{pool="web",backend="dead"}')).toBeGreaterThan(
      0,
    );
    expect(m.get('iolab_balancer_retries_total{pool="web"}')).toBeGreaterThan(0);
    metrics.detach();
  });
});

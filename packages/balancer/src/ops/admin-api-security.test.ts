/**
 * The admin API is for its operator only: bearer token, own Host, no foreign Origin, JSON-only mutations,
 * well-formed paths and backends, a 0600 Unix socket, and no token-less non-loopback listener. Real HTTP
 * over loopback (node:http, so Host and Origin can be set freely) and the real `curl` where installed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startBackend, startBalancer } from '../test-support.js';
import { type AdminServer, localControl, startAdminServer } from './admin-api.js';
import { createBalancerMetrics } from './metrics.js';

const TOKEN = 'operator-secret-token-0123456789';
let admin: AdminServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await admin?.close();
  admin = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await cleanup();
});

async function control() {
  const a = await startBackend('A');
  const { lb } = await startBalancer({
    listeners: [{ port: 0, pool: 'web' }],
    pools: [
      { name: 'web', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
    ],
  });
  return { lb, control: localControl(lb, createBalancerMetrics(lb, { processMetrics: false })) };
}

interface Reply {
  status: number;
  body: string;
  code: string | undefined;
}

function call(
  target: { port: number } | { socketPath: string },
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { ...target, host: '127.0.0.1', method, path, headers, setHost: !('host' in headers) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: text, code });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const json = { ...bearer, 'content-type': 'application/json' };

describe('admin API access control', () => {
  it('refuses a missing or wrong token, a foreign Host, a cross-origin text/plain POST; the operator with the token gets through', async () => {
    const { lb, control: c } = await control();
    admin = await startAdminServer(c, { host: '127.0.0.1', port: 0, token: TOKEN });
    const t = { port: admin.port };
    const backendsBefore = lb.stats().pools[0]!.backends.length;

    const noToken = await call(t, 'GET', '/backends', {});
    expect([noToken.status, noToken.code]).toEqual([401, 'IOLAB_ADMIN_UNAUTHORIZED']);
    expect(
      (await call(t, 'GET', '/backends', { authorization: 'Bearer wrong-token-0123456789' })).status,
    ).toBe(401);
    expect((await call(t, 'GET', '/healthz', {})).status).toBe(401);

    // DNS rebinding: the page's name resolves to 127.0.0.1, so the Host header is the page's name.
    const rebound = await call(t, 'GET', '/backends', {
      ...bearer,
      host: `rebind.evil.example:${admin.port}`,
    });
    expect([rebound.status, rebound.code]).toEqual([403, 'IOLAB_ADMIN_BAD_HOST']);
    expect(
      (await call(t, 'GET', '/backends', { ...bearer, host: `127.0.0.1:${admin.port + 1}` })).status,
    ).toBe(403);

    // What a browser sends cross-origin without a CORS preflight: text/plain POST with the page's Origin.
    const evil = JSON.stringify({ host: '127.0.0.1', port: 9, id: 'internal' });
    const csrf = await call(
      t,
      'POST',
      '/pools/web/backends',
      { origin: 'http://evil.example', 'content-type': 'text/plain' },
      evil,
    );
    expect([csrf.status, csrf.code]).toEqual([403, 'IOLAB_ADMIN_BAD_ORIGIN']);
    // Even with the token, a foreign Origin and a non-JSON mutation are refused.
    expect(
      (await call(t, 'POST', '/pools/web/backends', { ...json, origin: 'http://evil.example' }, evil)).status,
    ).toBe(403);
    const plain = await call(
      t,
      'POST',
      '/pools/web/backends',
      { ...bearer, 'content-type': 'text/plain' },
      evil,
    );
    expect([plain.status, plain.code]).toEqual([415, 'IOLAB_ADMIN_CONTENT_TYPE']);
    expect(lb.stats().pools[0]!.backends.length).toBe(backendsBefore);

    // The operator: own Host, own Origin (a same-origin page is fine), token, JSON.
    expect((await call(t, 'GET', '/backends', { ...bearer, host: `localhost:${admin.port}` })).status).toBe(
      200,
    );
    const own = await call(
      t,
      'POST',
      '/pools/web/backends',
      { ...json, origin: `http://127.0.0.1:${admin.port}` },
      JSON.stringify({ host: '127.0.0.1', port: 9, id: 'b' }),
    );
    expect(own.status).toBe(201);
  });

  it('answers malformed paths, bad hosts and over-cap weights with 400 and a clear message', async () => {
    const { control: c } = await control();
    admin = await startAdminServer(c, { host: '127.0.0.1', port: 0, token: TOKEN });
    const t = { port: admin.port };
    const badPath = await call(t, 'POST', '/pools/%E0%A4%A/backends/a/drain', json, '{}');
    expect([badPath.status, badPath.code]).toEqual([400, 'IOLAB_ADMIN_BAD_PATH']);
    expect((await call(t, 'GET', '/pools/web/backends/%ZZ', bearer)).status).toBe(400);
    // Malformed path beats auth: nothing about it depends on who asks.
    expect((await call(t, 'GET', '/pools/%/backends', {})).status).toBe(400);

    const crlf = await call(
      t,
      'POST',
      '/pools/web/backends',
      json,
      JSON.stringify({ host: '127.0.0.1\r\nX', port: 80 }),
    );
    expect(crlf.status).toBe(400);
    expect(crlf.body).toMatch(/must be an IP address or an RFC 1123 host name/);

    const heavy = await call(
      t,
      'POST',
      '/pools/web/backends/a/weight',
      json,
      JSON.stringify({ weight: 100_000 }),
    );
    expect(heavy.status).toBe(400);
    expect(heavy.body).toMatch(/weight must be an integer 0\.\.256/);
    expect(
      (await call(t, 'POST', '/pools/web/backends/a/weight', json, JSON.stringify({ weight: 1e308 }))).status,
    ).toBe(400);
    const addHeavy = await call(
      t,
      'POST',
      '/pools/web/backends',
      json,
      JSON.stringify({ host: 'h', port: 1, weight: 257 }),
    );
    expect(addHeavy.status).toBe(400);
    expect(
      (await call(t, 'POST', '/pools/web/backends/a/weight', json, JSON.stringify({ weight: 256 }))).status,
    ).toBe(200);
  });

  it('refuses to listen on a non-loopback address without a token', async () => {
    const { control: c } = await control();
    await expect(startAdminServer(c, { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /non-loopback 0\.0\.0\.0 without a token/,
    );
    await expect(startAdminServer(c, { host: '127.0.0.1', port: 0, token: 'short' })).rejects.toThrow(
      /at least 16/,
    );
  });

  it('a Unix-socket listener is created 0600 and answers over the socket', async () => {
    const { control: c } = await control();
    const dir = mkdtempSync(join(tmpdir(), 'iolab-admin-sock-'));
    dirs.push(dir);
    const path = join(dir, 'admin.sock');
    admin = await startAdminServer(c, { path });
    expect(admin.address).toBe(`unix:${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const r = await call({ socketPath: path }, 'GET', '/backends', { host: 'localhost' });
    expect(r.status).toBe(200);
    // Still no browser-driven mutations through it.
    expect(
      (
        await call({ socketPath: path }, 'POST', '/pools/web/backends/a/drain', {
          'content-type': 'text/plain',
        })
      ).status,
    ).toBe(415);
  });

  it("the operator's curl with the token works; without it, 401", async () => {
    const { control: c } = await control();
    admin = await startAdminServer(c, { host: '127.0.0.1', port: 0, token: TOKEN });
    const run = promisify(execFile);
    const url = `http://127.0.0.1:${admin.port}`;
    try {
      await run('curl', ['--version']);
    } catch {
      console.warn('skipping the curl check: curl is not installed');
      return;
    }
    const ok = await run('curl', [
      '-sS',
      '-w',
      '\\n%{http_code}',
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      `${url}/backends`,
    ]);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe('200');
    const drain = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-X',
      'POST',
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      '-H',
      'Content-Type: application/json',
      `${url}/pools/web/backends/a/drain`,
    ]);
    expect(drain.stdout).toBe('200');
    const anon = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${url}/backends`]);
    expect(anon.stdout).toBe('401');
  });
});

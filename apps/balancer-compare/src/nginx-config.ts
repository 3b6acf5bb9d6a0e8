/**
 * nginx as a peer (`stream` proxy, one process) and as the cheapest HTTP backend (`return 200` from memory).
 * Both run with `master_process off` and `daemon off`: the harness stops children by pid, and a forked worker
 * would outlive a SIGKILLed master.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const NGINX_STREAM_MODULES = [
  '/usr/lib/nginx/modules/ngx_stream_module.so',
  '/usr/share/nginx/modules/ngx_stream_module.so',
];

/**
 * nginx.conf for a `stream` proxy listening on `listen` (HOST:PORT) in front of `backends` (HOST:PORT each).
 * Shared with the kernel-balancing experiment so both compare against the same nginx.
 */
export function nginxConfig(dir: string, listen: string, backends: readonly string[]): string {
  const module = NGINX_STREAM_MODULES.find((m) => existsSync(m));
  return [
    module ? `load_module ${module};` : '# stream module built in',
    // One process: loadgen stops children by pid, and a forked worker would outlive a SIGKILLed master.
    'master_process off;',
    'daemon off;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'nginx-error.log')} warn;`,
    'events { worker_connections 4096; }',
    'stream {',
    '  upstream be {',
    ...backends.map((address) => `    server ${address};`),
    '  }',
    '  server {',
    `    listen ${listen};`,
    '    proxy_pass be;',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** An HTTP backend answering every request from memory; `keepalive_requests` high so keep-alive lasts. */
export function nginxBackendConfig(dir: string, port: number, name: string): string {
  return [
    // One process: loadgen stops children by pid, and a forked worker would outlive a SIGKILLed master.
    'master_process off;',
    'daemon off;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  keepalive_requests 10000000;',
    '  keepalive_timeout 120s;',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    `    location / { default_type text/plain; return 200 "hello from ${name}\\n"; }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** nginx without the stream module cannot be a peer; tell that apart from nginx missing. */
export function nginxHasStream(nginx: string): boolean {
  if (NGINX_STREAM_MODULES.some((m) => existsSync(m))) return true;
  try {
    const out = execFileSync(nginx, ['-V'], { encoding: 'utf8', stdio: 'pipe' });
    return /--with-stream(\s|$)/.test(out);
  } catch {
    return false;
  }
}

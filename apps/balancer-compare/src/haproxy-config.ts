/**
 * HAProxy as a peer: `mode tcp`, one thread, round-robin over the same backends as `iolab balance`. Started
 * with `-db` (foreground, no fork) so the harness stops it by pid.
 */

/** The whole haproxy.cfg for a TCP proxy on 127.0.0.1:`port` in front of `backends` (loopback ports). */
export function haproxyConfig(port: number, backends: readonly number[]): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    ...backends.map((p, i) => `  server b${i} 127.0.0.1:${p}`),
    '',
  ].join('\n');
}

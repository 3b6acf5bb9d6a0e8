/**
 * HAProxy as a peer: `mode tcp`, one thread, round-robin over the same backends as `iolab balance`. Started
 * with `-db` (foreground, no fork) so the harness stops it by pid.
 */

/**
 * The whole haproxy.cfg for a TCP proxy listening on `listen` (HOST:PORT) in front of `backends` (HOST:PORT
 * each). Shared with the kernel-balancing experiment so both compare against the same HAProxy.
 */
export function haproxyConfig(listen: string, backends: readonly string[]): string {
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
    `  bind ${listen}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    ...backends.map((address, i) => `  server b${i} ${address}`),
    '',
  ].join('\n');
}

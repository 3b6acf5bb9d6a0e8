/**
 * Writes keepalived.conf for one director of a VRRP pair, from iolab's own description of the service (the
 * balancer's listener address and port): no hand-written keepalived config. Pure: options in, text out.
 *
 * ```
 *   vrrp_script iolab_balancer      ← the track script: can this director's balancer accept on its port?
 *   vrrp_instance iolab_<id>        ← VIP(s) on the front interface, unicast adverts to the peer,
 *       track_script { … weight -N }  a failing script lowers priority below the peer's, so the peer takes over
 * ```
 */
import { LabBadOptionError } from './errors.js';

/** keepalived's default advertisement interval; the backup declares the master dead after ~3 of them. */
export const DEFAULT_ADVERT_INTERVAL_SEC = 1;
/** How often the track script runs and how many results change its state. */
export const DEFAULT_TRACK_INTERVAL_SEC = 1;
export const DEFAULT_TRACK_FALL = 2;
export const DEFAULT_TRACK_RISE = 2;
/** One track-script run must finish within this (a hung connect must not count as healthy). */
export const DEFAULT_TRACK_TIMEOUT_SEC = 1;

export interface VrrpAddress {
  /** CIDR, e.g. `198.51.100.100/24`. */
  readonly cidr: string;
  readonly dev: string;
}

export interface KeepalivedInstanceOptions {
  /** Names in the config (router_id, instance name). [A-Za-z0-9_]. */
  readonly name: string;
  readonly interface: string;
  /** VRRP router id, 1..255, equal on both directors. */
  readonly virtualRouterId: number;
  /** 1..254; the master has the higher. */
  readonly priority: number;
  readonly addresses: readonly VrrpAddress[];
  /** This director's address and its peer's, for unicast adverts (no multicast needed on the bridge). */
  readonly unicastSource: string;
  readonly unicastPeers: readonly string[];
  /** false writes `nopreempt` (with state BACKUP, as keepalived requires): a returning master waits. */
  readonly preempt: boolean;
  readonly advertIntervalSec?: number;
  /** The track script: a file keepalived runs, exit 0 = healthy. */
  readonly trackScript?: {
    readonly path: string;
    readonly intervalSec?: number;
    readonly fall?: number;
    readonly rise?: number;
    readonly timeoutSec?: number;
    /** Priority lost while failing; must exceed the priority gap so the peer wins. */
    readonly weight: number;
  };
}

const NAME = /^[A-Za-z0-9_]{1,32}$/;

export function renderKeepalivedConfig(o: KeepalivedInstanceOptions): string {
  if (!NAME.test(o.name)) throw new LabBadOptionError(`keepalived name must match ${NAME}, got ${o.name}`);
  if (!Number.isInteger(o.virtualRouterId) || o.virtualRouterId < 1 || o.virtualRouterId > 255) {
    throw new LabBadOptionError(`virtualRouterId must be 1..255, got ${o.virtualRouterId}`);
  }
  if (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > 254) {
    throw new LabBadOptionError(`priority must be 1..254, got ${o.priority}`);
  }
  const advert = o.advertIntervalSec ?? DEFAULT_ADVERT_INTERVAL_SEC;
  const t = o.trackScript;
  const lines = [
    'global_defs {',
    `  router_id ${o.name}`,
    // Scripts run as root; keepalived otherwise looks for a keepalived_script user that Debian does not create.
    '  script_user root',
    '  enable_script_security',
    // Without this, VRRPv3 rejects sub-second advert intervals.
    '  vrrp_version 3',
    '}',
  ];
  if (t) {
    lines.push(
      'vrrp_script iolab_balancer {',
      `  script "${t.path}"`,
      `  interval ${t.intervalSec ?? DEFAULT_TRACK_INTERVAL_SEC}`,
      `  timeout ${t.timeoutSec ?? DEFAULT_TRACK_TIMEOUT_SEC}`,
      `  fall ${t.fall ?? DEFAULT_TRACK_FALL}`,
      `  rise ${t.rise ?? DEFAULT_TRACK_RISE}`,
      `  weight -${Math.abs(t.weight)}`,
      '}',
    );
  }
  lines.push(
    `vrrp_instance ${o.name} {`,
    // keepalived honours nopreempt only when the initial state is BACKUP.
    `  state ${o.preempt ? 'MASTER' : 'BACKUP'}`,
    `  interface ${o.interface}`,
    `  virtual_router_id ${o.virtualRouterId}`,
    `  priority ${o.priority}`,
    `  advert_int ${advert}`,
    ...(o.preempt ? [] : ['  nopreempt']),
    `  unicast_src_ip ${o.unicastSource}`,
    '  unicast_peer {',
    ...o.unicastPeers.map((p) => `    ${p}`),
    '  }',
    '  virtual_ipaddress {',
    ...o.addresses.map((a) => `    ${a.cidr} dev ${a.dev}`),
    '  }',
    ...(t ? ['  track_script {', '    iolab_balancer', '  }'] : []),
    '}',
    '',
  );
  return lines.join('\n');
}

/** The part of a balancer config the HA pair needs (structural, so this package need not import the balancer). */
export interface HaServiceSource {
  readonly listeners: readonly { readonly host?: string; readonly port: number }[];
}

/**
 * The track script for a balancer: exit 0 when something accepts on the listener's port on this director.
 * It connects to 127.0.0.1 because the VIP is local only on the master; the balancers therefore listen on
 * 0.0.0.0 (or the VIP with `ip_nonlocal_bind`) plus loopback.
 */
export function renderTrackScript(source: HaServiceSource, timeoutSec = DEFAULT_TRACK_TIMEOUT_SEC): string {
  const ports = [...new Set(source.listeners.map((l) => l.port))];
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new LabBadOptionError('the track script needs listeners with fixed ports');
  }
  // bash's /dev/tcp is the smallest TCP connect there is: no curl, no node start-up per check.
  const checks = ports.map(
    (p) => `timeout ${timeoutSec} bash -c 'exec 3<>/dev/tcp/127.0.0.1/${p}' || exit 1`,
  );
  return [
    '#!/bin/bash',
    "# Written by iolab: is this director's balancer accepting?",
    ...checks,
    'exit 0',
    '',
  ].join('\n');
}

/**
 * What `--check` does beyond the schema, so that it rejects whatever start would reject (nginx `-t`,
 * HAProxy `-c`), and what `--check --print` shows (nginx `-T`): the configuration that would run, with
 * every default filled in, as a document that is itself a valid config file.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { resolveConfig } from '../config-resolve.js';
import { type BalancerFileConfig, ConfigFileError, type ConfigIssue } from './config-schema.js';

/**
 * Listen and admin addresses must resolve, as `listen()` would resolve them at start (a typo such as
 * `--listen locahost:80` or HAProxy-style `*` written somewhere it is not understood). Backend hosts are
 * not checked: they are resolved per connection, and a backend that is down at start is a health matter.
 */
export async function checkAddresses(config: BalancerFileConfig, file?: string): Promise<void> {
  const resolved = resolveConfig(config.balancer);
  const targets: { pointer: string; host: string }[] = resolved.listeners.map((l, i) => ({
    pointer: `/listeners/${i}/host`,
    host: l.host,
  }));
  if (config.admin && 'host' in config.admin) {
    targets.push({ pointer: '/admin/host', host: config.admin.host });
  }
  const issues: ConfigIssue[] = [];
  for (const t of targets) {
    if (isIP(t.host) !== 0) continue;
    try {
      await lookup(t.host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      issues.push({ pointer: t.pointer, message: `does not resolve: ${JSON.stringify(t.host)} (${code})` });
    }
  }
  if (issues.length > 0) throw new ConfigFileError(issues, file);
}

type Json = Record<string, unknown>;

function withoutToken(admin: NonNullable<BalancerFileConfig['admin']>): Json {
  const { token: _token, ...rest } = admin;
  return rest;
}

/** The configuration that would run: file, then flags, then every default, in the file's own format. */
export function effectiveConfig(config: BalancerFileConfig): Json {
  const r = resolveConfig(config.balancer);
  const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));
  return {
    listeners: r.listeners.map((l) => ({ ...l })),
    pools: r.pools.map((p) => {
      const { send, expect, ...health } = p.health;
      return {
        name: p.name,
        // A file can only name a policy; a function comes from the library, never from here.
        policy: typeof p.policy === 'string' ? p.policy : 'custom',
        retries: p.retries,
        maxQueue: p.maxQueue,
        retryOnFirstByteTimeout: p.retryOnFirstByteTimeout,
        backends: p.backends.map((b) => {
          const { proxyProtocol, ...rest } = b;
          return proxyProtocol === undefined ? rest : { ...rest, proxyProtocol };
        }),
        health: {
          ...health,
          ...(send === undefined ? {} : { send: text(send) }),
          ...(typeof expect === 'string' ? { expect } : {}),
          ...(expect instanceof RegExp ? { expectPattern: expect.source } : {}),
        },
      };
    }),
    maxHeldBytes: r.maxHeldBytes,
    // Never the token: this output goes to terminals and CI logs.
    ...(config.admin ? { admin: withoutToken(config.admin) } : {}),
    workers: config.workers,
    log: { level: config.logLevel },
  };
}

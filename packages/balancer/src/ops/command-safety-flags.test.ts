/**
 * The safety flags of `iolab balance` / `iolab-balancer` land in the validated config, and their limits are
 * the schema's: first-byte timeout and passive-health limits, replay opt-in, admin socket and token, and
 * the weight cap.
 */
import { describe, expect, it } from 'vitest';
import { resolveBalanceArgs, UsageError } from './command-flags.js';

const base = ['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:9'];

describe('balance command: safety flags', () => {
  it('maps --first-byte-timeout, the passive limits and --retry-on-first-byte-timeout', async () => {
    const { config } = await resolveBalanceArgs([
      ...base,
      '--first-byte-timeout',
      '750',
      '--first-byte-timeout-limit',
      '2',
      '--connect-failure-limit',
      '1',
      '--retry-on-first-byte-timeout',
    ]);
    expect(config.balancer.timeouts).toEqual({ firstByte: 750 });
    expect(config.balancer.pools[0]).toMatchObject({
      retryOnFirstByteTimeout: true,
      health: { firstByteTimeoutLimit: 2, connectFailureLimit: 1 },
    });
  });

  it('maps --admin unix:/path and --admin-token; a token without --admin or a short one is refused', async () => {
    const token = 'flag-token-0123456789abcdef';
    const { config } = await resolveBalanceArgs([
      ...base,
      '--admin',
      'unix:/tmp/iolab-admin.sock',
      '--admin-token',
      token,
    ]);
    expect(config.admin).toEqual({ path: '/tmp/iolab-admin.sock', token });
    const tcp = await resolveBalanceArgs([...base, '--admin', '9100', '--admin-token', token]);
    expect(tcp.config.admin).toEqual({ host: '127.0.0.1', port: 9100, token });
    await expect(resolveBalanceArgs([...base, '--admin-token', token])).rejects.toThrow(
      /--admin-token needs --admin/,
    );
    await expect(resolveBalanceArgs([...base, '--admin', '9100', '--admin-token', 'short'])).rejects.toThrow(
      /\/admin\/token/,
    );
  });

  it('refuses a weight over the cap with a clear error', async () => {
    const err = await resolveBalanceArgs([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      '127.0.0.1:9,weight=100000',
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/\/pools\/0\/backends\/0\/weight: must be <= 256/);
  });
});

/**
 * `iolab-balancer --engine …` refuses what it cannot do before touching the kernel: these run without root.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/iolab-balancer.js', import.meta.url));

function run(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('--engine', () => {
  it('an unknown engine is a usage error (exit 2)', () => {
    const r = run('--engine', 'ipvs', '--listen', '198.51.100.100:80', '--backend', '203.0.113.11:8080');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--engine: must be user or nft, got "ipvs"');
  });

  it('nft refuses a policy the kernel cannot do, naming the field (exit 1, nothing installed)', () => {
    const r = run(
      '--engine',
      'nft',
      '--policy',
      'least-conn',
      '--listen',
      '198.51.100.100:80',
      '--backend',
      '203.0.113.11:8080',
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/pools\.default\.policy least-conn needs per-connection counts/);
    expect(r.stdout).toBe('');
  });

  it('nft refuses PROXY protocol to a backend: the kernel never sees the byte stream', () => {
    const r = run(
      '--engine',
      'nft',
      '--listen',
      '198.51.100.100:80',
      '--backend',
      '203.0.113.11:8080,proxy=v2',
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('proxyProtocol');
  });

  it('is listed in --help', () => {
    expect(run('--help').stdout).toContain('--engine user|nft');
  });
});

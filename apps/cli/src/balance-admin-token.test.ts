/**
 * The admin token as the command handles it: generated into an owner-only file whose path is printed when
 * none is given, taken from IOLAB_ADMIN_TOKEN / --admin-token otherwise, and required for a non-loopback
 * admin address. The operator's curl with the token works; a request without it is refused.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cleanup, startBalance, startIdBackend } from './test-balance-process.js';

afterEach(cleanup);
const run = promisify(execFile);

async function curlStatus(args: string[]): Promise<string> {
  const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', ...args]);
  return stdout;
}

async function hasCurl(): Promise<boolean> {
  try {
    await run('curl', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('iolab balance --admin: the token', { timeout: 30_000 }, () => {
  it('without a token given, generates one into a 0600 file, prints its path, and removes it on stop', async () => {
    const a = await startIdBackend('A');
    const proc = startBalance([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      `127.0.0.1:${a.port}`,
      '--admin',
      '0',
    ]);
    const adminPort = Number((await proc.untilOutput(/^admin on 127\.0\.0\.1:(\d+)$/m))[1]);
    const path = (await proc.untilOutput(/^admin token in (.+)$/m))[1]!;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    const token = readFileSync(path, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    const url = `http://127.0.0.1:${adminPort}`;
    if (await hasCurl()) {
      expect(await curlStatus(['-H', `Authorization: Bearer ${token}`, `${url}/backends`])).toBe('200');
      expect(await curlStatus([`${url}/backends`])).toBe('401');
      expect(
        await curlStatus([
          '-X',
          'POST',
          '-H',
          'Origin: http://evil.example',
          '-H',
          'Content-Type: text/plain',
          '--data',
          '{"host":"127.0.0.1","port":9}',
          `${url}/pools/default/backends`,
        ]),
      ).toBe('403');
      expect(
        await curlStatus([
          '-H',
          `Authorization: Bearer ${token}`,
          '-H',
          'Host: rebind.evil.example',
          `${url}/backends`,
        ]),
      ).toBe('403');
    } else {
      console.warn('curl not installed: checking with fetch only');
    }
    expect((await fetch(`${url}/backends`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('takes IOLAB_ADMIN_TOKEN, and refuses a non-loopback admin address without a given token', async () => {
    const a = await startIdBackend('A');
    const base = ['--listen', '127.0.0.1:0', '--backend', `127.0.0.1:${a.port}`];
    const refused = await run(process.execPath, [CLI, 'balance', ...base, '--admin', '0.0.0.0:0'], {
      timeout: 20_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refusing to serve the admin API on non-loopback 0\.0\.0\.0 without a token/,
    );

    const token = 'env-token-0123456789abcdef';
    process.env.IOLAB_ADMIN_TOKEN = token;
    try {
      const proc = startBalance([...base, '--admin', '0']);
      const adminPort = Number((await proc.untilOutput(/^admin on 127\.0\.0\.1:(\d+)$/m))[1]);
      expect(proc.stdout()).not.toMatch(/admin token in/);
      const url = `http://127.0.0.1:${adminPort}/backends`;
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(url)).status).toBe(401);
    } finally {
      delete process.env.IOLAB_ADMIN_TOKEN;
    }
  });
});

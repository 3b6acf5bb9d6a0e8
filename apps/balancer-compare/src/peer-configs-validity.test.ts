import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { haproxyConfig } from './haproxy-config.js';
import { nginxBackendConfig, nginxConfig, nginxHasStream } from './nginx-config.js';
import { findTool } from './peer-process.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iolab-peer-cfg-'));
  dirs.push(dir);
  return dir;
}

const haproxy = findTool('haproxy');
const nginx = findTool('nginx');

describe('peer configs are accepted by the real peers', () => {
  it.skipIf(!haproxy)('haproxy -c accepts the TCP proxy config (skipped: haproxy not installed)', () => {
    const cfg = join(scratch(), 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig('127.0.0.1:18080', ['127.0.0.1:18081', '127.0.0.1:18082']));
    expect(() => execFileSync(haproxy as string, ['-c', '-f', cfg], { stdio: 'pipe' })).not.toThrow();
  });

  it.skipIf(!nginx || !nginxHasStream(nginx))(
    'nginx -t accepts the stream proxy config (skipped: nginx or its stream module missing)',
    () => {
      const dir = scratch();
      const cfg = join(dir, 'nginx.conf');
      writeFileSync(cfg, nginxConfig(dir, '127.0.0.1:18080', ['127.0.0.1:18081', '127.0.0.1:18082']));
      expect(() =>
        execFileSync(nginx as string, ['-t', '-p', dir, '-c', cfg], { stdio: 'pipe' }),
      ).not.toThrow();
    },
  );

  it.skipIf(!nginx)('nginx -t accepts the backend config (skipped: nginx not installed)', () => {
    const dir = scratch();
    const cfg = join(dir, 'nginx.conf');
    writeFileSync(cfg, nginxBackendConfig(dir, 18081, 'A'));
    expect(() =>
      execFileSync(nginx as string, ['-t', '-p', dir, '-c', cfg], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('lists every backend once in each config', () => {
    expect(
      haproxyConfig('127.0.0.1:1', ['127.0.0.1:2', '127.0.0.1:3']).match(/server b\d 127\.0\.0\.1:\d+/g),
    ).toEqual(['server b0 127.0.0.1:2', 'server b1 127.0.0.1:3']);
    expect(
      nginxConfig('/tmp/x', '127.0.0.1:1', ['127.0.0.1:2', '127.0.0.1:3']).match(/server 127\.0\.0\.1:\d+;/g),
    ).toEqual(['server 127.0.0.1:2;', 'server 127.0.0.1:3;']);
  });
});

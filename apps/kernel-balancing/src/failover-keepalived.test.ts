/**
 * The HA pair for real: keepalived (VRRP, configs written by iolab) on two directors, each in front of an
 * `iolab balance`; the track script makes a dead balancer lose mastership, and the VIP then answers through
 * the other director. Needs root, ip, nft and keepalived; skipped with a message otherwise.
 */
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, spawnManaged } from '@iolab/harness';
import {
  createLab,
  findTool,
  type KeepalivedProcess,
  keepalivedWorkDir,
  type Lab,
  labUnavailableReason,
  renderKeepalivedConfig,
  renderTrackScript,
  startKeepalived,
} from '@iolab/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServers, whoAnswers } from './lab-processes.js';
import { REAL_SERVER_PORT } from './targets.js';

const skipReason =
  labUnavailableReason(['ip', 'nft', 'sysctl']) ??
  (findTool('keepalived') ? undefined : 'needs keepalived, which is not installed');
if (skipReason) console.warn(`failover-keepalived: SKIPPED — ${skipReason}`);
const cli = fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url));

describe.skipIf(skipReason !== undefined)(
  'keepalived pair in front of iolab balance',
  { timeout: 90_000 },
  () => {
    let lab: Lab;
    const procs: ManagedProcess[] = [];
    const balancers: ManagedProcess[] = [];
    const keepaliveds: KeepalivedProcess[] = [];
    const ac = new AbortController();

    beforeAll(async () => {
      lab = createLab({ realServers: 1, directors: 2 });
      procs.push(...(await startRealServers(lab, ac.signal)));
      const listeners = [{ host: '0.0.0.0', port: 80 }];
      for (const [i, d] of lab.directors.entries()) {
        const [command, args] = lab.command(d.ns, process.execPath, [
          cli,
          'balance',
          '--listen',
          '0.0.0.0:80',
          '--backend',
          `${lab.realServers[0]!.address}:${REAL_SERVER_PORT}`,
          '--log-level',
          'warn',
        ]);
        balancers.push(await spawnManaged({ command, args, signal: ac.signal }));
        const dir = keepalivedWorkDir();
        const config = renderKeepalivedConfig({
          name: 'iolab_test',
          interface: 'front',
          virtualRouterId: 52,
          priority: i === 0 ? 150 : 100,
          addresses: [{ cidr: `${lab.vip}/24`, dev: 'front' }],
          unicastSource: d.front.address,
          unicastPeers: [lab.directors[1 - i]!.front.address],
          preempt: true,
          advertIntervalSec: 0.5,
          trackScript: { path: `${dir}/track.sh`, weight: 80 },
        });
        keepaliveds.push(
          startKeepalived({ ns: d.ns, dir, config, trackScript: renderTrackScript({ listeners }) }),
        );
      }
    });
    afterAll(async () => {
      ac.abort();
      for (const k of keepaliveds) await k.stop('SIGKILL');
      for (const p of [...balancers, ...procs]) await p.stop('SIGKILL', 0);
      lab?.destroy();
    });

    it('the higher priority director holds the VIP and its balancer answers', async () => {
      await keepaliveds[0]!.waitFor('MASTER', 20_000);
      await keepaliveds[1]!.waitFor('BACKUP', 20_000);
      const { answers } = await whoAnswers(lab, `http://${lab.vip}/`, 3, ac.signal);
      // The real server sees the proxy's address: director 1's back address.
      expect(answers.map((a) => a.seen)).toEqual(Array(3).fill(lab.directors[0]!.back.address));
    });

    it('a dead balancer fails the track script: the backup takes the VIP and answers through its own balancer', async () => {
      await balancers[0]!.stop('SIGKILL', 0);
      await keepaliveds[1]!.waitFor('MASTER', 20_000);
      let seen: string[] = [];
      for (let i = 0; i < 40; i++) {
        seen = (await whoAnswers(lab, `http://${lab.vip}/`, 3, ac.signal)).answers.map((a) => a.seen);
        if (seen.length === 3 && seen.every((s) => s === lab.directors[1]!.back.address)) break;
      }
      expect(seen).toEqual(Array(3).fill(lab.directors[1]!.back.address));
      expect(keepaliveds[0]!.state()).not.toBe('MASTER');
    });
  },
);

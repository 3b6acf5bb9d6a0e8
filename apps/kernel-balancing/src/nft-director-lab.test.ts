/**
 * `iolab balance --engine nft` for real, in the lab: the kernel NAT director in director 1's namespace in
 * front of two real servers, configured from a file. Weights become exact shares, the real server sees the
 * client's own address, a dead backend leaves the nft map and a revived one comes back, SIGHUP reloads the
 * file (a bad one changes nothing), and SIGTERM removes the table.
 * Needs root, nft, ip; skipped with a message otherwise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, spawnManaged } from '@iolab/harness';
import { createLab, type Lab, labUnavailableReason } from '@iolab/netlab';
import { until } from '@iolab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServers, whoAnswers } from './lab-processes.js';
import { REAL_SERVER_PORT } from './targets.js';

const skipReason = labUnavailableReason(['ip', 'nft', 'sysctl']);
if (skipReason) console.warn(`nft-director-lab: SKIPPED — ${skipReason}`);
const cli = fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url));

describe.skipIf(skipReason !== undefined)('nft NAT director in the lab', { timeout: 60_000 }, () => {
  let lab: Lab;
  let servers: ManagedProcess[] = [];
  let director: ManagedProcess | undefined;
  const ac = new AbortController();
  const url = (): string => `http://${lab.vip}/`;
  const dir = mkdtempSync(join(tmpdir(), 'iolab-nft-lab-'));
  const configFile = join(dir, 'balancer.json');
  /** The director's config file: one listener on the VIP, the given backends (address, weight). */
  const writeConfig = (backends: readonly (readonly [string, number])[], policy = 'weighted'): void =>
    writeFileSync(
      configFile,
      JSON.stringify({
        listeners: [{ name: 'vip', host: lab.vip, port: 80, pool: 'web' }],
        pools: [
          {
            name: 'web',
            policy,
            health: { interval: '200ms', fall: 2, rise: 2 },
            backends: backends.map(([host, weight]) => ({ host, port: REAL_SERVER_PORT, weight })),
          },
        ],
      }),
    );

  beforeAll(async () => {
    lab = createLab({ realServers: 2, directors: 1 });
    const d = lab.directors[0]!;
    lab.setAddress(d, 'front', `${lab.vip}/24`, true);
    lab.setAddress(d, 'back', `${lab.gateway}/24`, true);
    servers = await startRealServers(lab, ac.signal);
    const [rs1, rs2] = lab.realServers;
    writeConfig([
      [rs1!.address, 3],
      [rs2!.address, 1],
    ]);
    const [command, args] = lab.command(d.ns, process.execPath, [
      cli,
      'balance',
      '--engine',
      'nft',
      '--config',
      configFile,
      '--log-level',
      'info',
    ]);
    director = await spawnManaged({ command, args, signal: ac.signal });
  });
  afterAll(async () => {
    ac.abort();
    await director?.stop('SIGKILL', 0);
    for (const s of servers) await s.stop('SIGKILL', 0);
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const tables = (): string => lab.exec(lab.directors[0]!.ns, 'nft', ['list', 'tables']);

  it('splits new connections 3:1 by weight and keeps the client address (LVS-NAT)', async () => {
    expect(tables()).toMatch(/table ip iolab_\d+/);
    const { answers, errors } = await whoAnswers(lab, url(), 40, ac.signal);
    expect(errors).toBe(0);
    // The probe's first (readiness) request took one slot; the next 40 are 40 consecutive generator values.
    const rs1 = answers.filter((a) => a.server === 'rs1').length;
    expect([29, 30, 31]).toContain(rs1);
    expect(answers.length - rs1).toBe(40 - rs1);
    expect(new Set(answers.map((a) => a.seen))).toEqual(new Set([lab.client.address]));
  });

  it('removes a dead backend from the map and re-adds it when it passes its checks again', async () => {
    await servers[1]!.stop('SIGKILL', 0);
    const onlyRs1 = async (): Promise<boolean> => {
      const { answers, errors } = await whoAnswers(lab, url(), 8, ac.signal);
      return errors === 0 && answers.every((a) => a.server === 'rs1');
    };
    let ok = false;
    for (let i = 0; i < 40 && !ok; i++) ok = await onlyRs1();
    expect(ok).toBe(true);
    expect(lab.exec(lab.directors[0]!.ns, 'nft', ['list', 'ruleset'])).not.toContain(
      lab.realServers[1]!.address,
    );
    // Revive rs2 (a fresh process on the same port): `rise` good checks put it back.
    servers = [
      servers[0]!,
      ...(await startRealServers({ ...lab, realServers: [lab.realServers[1]!] }, ac.signal)),
    ];
    let back = false;
    for (let i = 0; i < 40 && !back; i++) {
      const { answers } = await whoAnswers(lab, url(), 8, ac.signal);
      back = answers.some((a) => a.server === 'rs2');
    }
    expect(back).toBe(true);
  });

  it('reloads its config file on SIGHUP in one nft transaction; a config the kernel cannot run changes nothing', async () => {
    const [rs1, rs2] = lab.realServers;
    const ruleset = (): string => lab.exec(lab.directors[0]!.ns, 'nft', ['list', 'ruleset']);
    // rs1 leaves the pool: after the reload only rs2 answers, and rs1 is gone from the map.
    writeConfig([[rs2!.address, 1]]);
    process.kill(director!.pid, 'SIGHUP');
    let onlyRs2 = false;
    for (let i = 0; i < 40 && !onlyRs2; i++) {
      const { answers, errors } = await whoAnswers(lab, url(), 8, ac.signal);
      onlyRs2 = errors === 0 && answers.length > 0 && answers.every((a) => a.server === 'rs2');
    }
    expect(onlyRs2).toBe(true);
    expect(ruleset()).not.toContain(`${rs1!.address}:`);
    expect(director!.stderrTail()).toContain('"event":"reload-ok"');
    // least-conn needs per-connection counts the kernel does not keep: refused, the running table stays.
    const before = ruleset();
    writeConfig([[rs1!.address, 1]], 'least-conn');
    process.kill(director!.pid, 'SIGHUP');
    await until(
      () => director!.stderrTail().includes('"event":"reload-failed"'),
      'the reload to fail',
      10_000,
    );
    expect(director!.sample()).toBeDefined();
    expect(ruleset()).toBe(before);
  });

  it('removes its nft table on SIGTERM', async () => {
    const exit = await director!.stop('SIGTERM', 5_000);
    expect(exit.code).toBe(0);
    expect(tables()).not.toMatch(/iolab/);
  });
});

/**
 * A highly available pair: both directors run `iolab balance` and keepalived (VRRP for the VIP and the real
 * servers' gateway), with a track script on the balancer; iolab writes both keepalived configs from the
 * balancer's own listener. Under a steady probe (a new connection every 50 ms, four keep-alive connections
 * asking every 100 ms) the run kills the master's balancer, brings it back, kills the master's keepalived,
 * brings it back — with preempt on, then with preempt off — and for each event reports how long until the
 * VIP answered through the other director and what the client saw fail meanwhile.
 */
import { type ManagedProcess, spawnManaged } from '@iolab/harness';
import {
  type Director,
  type KeepalivedProcess,
  keepalivedWorkDir,
  type Lab,
  renderKeepalivedConfig,
  renderTrackScript,
  startKeepalived,
} from '@iolab/netlab';
import { startWatch, type Watch, type WatchResult } from './lab-processes.js';
import { REAL_SERVER_PORT, SERVICE_PORT } from './targets.js';

/**
 * keepalived's default is 1 s; the backup declares a silent master dead after 3 × this + skew. Quick runs
 * use 0.5 s (VRRPv3 allows it) so the section fits the quick bench; the report states which was used.
 */
export const ADVERT_INTERVAL_SEC = { quick: 0.5, full: 1 } as const;
/** Master's priority over the backup's; the track script's weight must exceed the gap. */
const PRIORITY = { master: 150, backup: 100, trackWeight: 80 } as const;
/** One event may take this long to settle before it is recorded as "did not recover". */
const EVENT_DEADLINE_MS = 20_000;
/** After recovery, keep counting this long: late resets of established connections land here. */
const SETTLE_MS = { quick: 500, full: 1_000 } as const;
/** A "nothing should happen" event (nopreempt return) is watched this long. */
const QUIET_WINDOW_MS = 4_000;

export interface FailoverEvent {
  readonly pass: 'preempt on' | 'preempt off';
  readonly event: string;
  /** Director expected to serve after the event. */
  readonly expect: 'dir1' | 'dir2';
  /** ms from the event until a new connection was answered through `expect`; undefined: not within the deadline. */
  readonly recoveryMs: number | undefined;
  readonly newErrors: number;
  readonly newTotal: number;
  readonly establishedErrors: number;
  readonly establishedTotal: number;
  /** Distinct error kinds seen (ECONNRESET, timeout, ECONNREFUSED …). */
  readonly errorKinds: readonly string[];
  /** New connections in the window answered through each director. */
  readonly servedBy: Readonly<Record<string, number>>;
}

export interface FailoverResults {
  readonly advertIntervalSec: number;
  readonly trackScript: string;
  readonly keepalivedConfig: string;
  readonly events: readonly FailoverEvent[];
  readonly commands: readonly string[];
}

interface Side {
  readonly d: Director;
  readonly name: 'dir1' | 'dir2';
  balancer: ManagedProcess | undefined;
  keepalived: KeepalivedProcess | undefined;
}

/** The config every director's balancer runs (listening on every address, so the track script can use loopback). */
function balancerArgs(cliPath: string, lab: Lab): string[] {
  return [
    cliPath,
    'balance',
    '--listen',
    `0.0.0.0:${SERVICE_PORT}`,
    '--log-level',
    'warn',
    ...lab.realServers.flatMap((r) => ['--backend', `${r.address}:${REAL_SERVER_PORT}`]),
  ];
}

export async function runFailover(
  lab: Lab,
  cliPath: string,
  o: { quick: boolean; signal: AbortSignal },
): Promise<FailoverResults> {
  const [d1, d2] = lab.directors;
  if (!d1 || !d2) throw new Error('the failover needs two directors');
  const sides: Side[] = [
    { d: d1, name: 'dir1', balancer: undefined, keepalived: undefined },
    { d: d2, name: 'dir2', balancer: undefined, keepalived: undefined },
  ];
  const commands: string[] = [];
  const advert = ADVERT_INTERVAL_SEC[o.quick ? 'quick' : 'full'];
  const settle = SETTLE_MS[o.quick ? 'quick' : 'full'];
  const listeners = [{ host: '0.0.0.0', port: SERVICE_PORT }];
  const trackScript = renderTrackScript({ listeners });
  let firstConfig = '';

  const startBalancer = async (s: Side): Promise<void> => {
    const [command, args] = lab.command(s.d.ns, process.execPath, balancerArgs(cliPath, lab));
    s.balancer = await spawnManaged({ command, args, signal: o.signal, readyTimeoutMs: 20_000 });
    commands.push(s.balancer.commandLine);
  };
  const startKa = (s: Side, preempt: boolean): KeepalivedProcess => {
    const dir = keepalivedWorkDir();
    const peer = sides.find((x) => x !== s)!.d;
    const config = renderKeepalivedConfig({
      name: 'iolab_vip',
      interface: 'front',
      virtualRouterId: 51,
      priority: s.name === 'dir1' ? PRIORITY.master : PRIORITY.backup,
      addresses: [
        { cidr: `${lab.vip}/24`, dev: 'front' },
        // The real servers' gateway moves with the VIP, so NAT replies always find the active director.
        { cidr: `${lab.gateway}/24`, dev: 'back' },
      ],
      unicastSource: s.d.front.address,
      unicastPeers: [peer.front.address],
      preempt,
      advertIntervalSec: advert,
      trackScript: { path: `${dir}/track.sh`, weight: PRIORITY.trackWeight },
    });
    if (!firstConfig) firstConfig = config;
    const k = startKeepalived({ ns: s.d.ns, dir, config, trackScript });
    commands.push(k.commandLine);
    s.keepalived = k;
    return k;
  };
  const crashKeepalived = async (s: Side): Promise<void> => {
    await s.keepalived?.crash();
    s.keepalived = undefined;
  };

  const events: FailoverEvent[] = [];
  let watch: Watch | undefined;
  try {
    lab.routeRealServersVia('gateway');
    for (const s of sides) await startBalancer(s);
    startKa(sides[0]!, true);
    startKa(sides[1]!, true);
    await sides[0]!.keepalived!.waitFor('MASTER', EVENT_DEADLINE_MS);
    watch = await startWatch(lab, `http://${lab.vip}:${SERVICE_PORT}/`);
    const w = watch;

    /** Runs one event and measures it from the probe's results. */
    const measure = async (
      pass: FailoverEvent['pass'],
      event: string,
      expect: 'dir1' | 'dir2',
      act: () => Promise<void>,
      quiet = false,
    ): Promise<void> => {
      const via = sides.find((s) => s.name === expect)!.d.back.address;
      const t0 = Date.now();
      await act();
      let recoveredAt: number | undefined;
      const deadline = t0 + (quiet ? QUIET_WINDOW_MS : EVENT_DEADLINE_MS);
      while (Date.now() < deadline && !o.signal.aborted) {
        const r = w.results().find((x) => x.t >= t0 && x.k === 'n' && x.ok && x.body?.endsWith(` ${via}`));
        if (r && !quiet) {
          recoveredAt = r.t;
          break;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      if (quiet) recoveredAt = t0;
      const end = (recoveredAt ?? deadline) + settle;
      await new Promise((res) => setTimeout(res, Math.max(0, end - Date.now())));
      const win = w.results().filter((x: WatchResult) => x.t >= t0 && x.t <= end);
      const kinds = new Set(win.filter((x) => !x.ok).map((x) => x.err ?? '?'));
      events.push({
        pass,
        event,
        expect,
        recoveryMs: recoveredAt === undefined ? undefined : quiet ? 0 : recoveredAt - t0,
        newErrors: win.filter((x) => x.k === 'n' && !x.ok).length,
        newTotal: win.filter((x) => x.k === 'n').length,
        establishedErrors: win.filter((x) => x.k === 'e' && !x.ok).length,
        establishedTotal: win.filter((x) => x.k === 'e').length,
        errorKinds: [...kinds].sort(),
        servedBy: Object.fromEntries(
          sides.map((s) => [
            s.name,
            win.filter((x) => x.k === 'n' && x.ok && x.body?.endsWith(` ${s.d.back.address}`)).length,
          ]),
        ),
      });
    };

    const s1 = sides[0]!;
    const s2 = sides[1]!;
    await measure('preempt on', "master's balancer killed (SIGKILL)", 'dir2', async () => {
      await s1.balancer?.stop('SIGKILL', 0);
    });
    await measure(
      'preempt on',
      "master's balancer back: track script passes, master preempts",
      'dir1',
      async () => {
        await startBalancer(s1);
      },
    );
    await measure('preempt on', "master's keepalived killed (SIGKILL)", 'dir2', async () => {
      await crashKeepalived(s1);
    });
    await measure('preempt on', "master's keepalived back: preempts", 'dir1', async () => {
      startKa(s1, true);
    });
    // Preempt off: both restart as BACKUP with nopreempt; the higher priority wins the first election.
    await crashKeepalived(s1);
    await s2.keepalived?.stop('SIGTERM');
    startKa(s1, false);
    await s1.keepalived!.waitFor('MASTER', EVENT_DEADLINE_MS);
    startKa(s2, false);
    await s2.keepalived!.waitFor('BACKUP', EVENT_DEADLINE_MS);
    await measure('preempt off', "master's keepalived killed (SIGKILL)", 'dir2', async () => {
      await crashKeepalived(s1);
    });
    await measure(
      'preempt off',
      "old master's keepalived back: stays backup (nopreempt)",
      'dir2',
      async () => {
        startKa(s1, false);
        await s1.keepalived!.waitFor('BACKUP', EVENT_DEADLINE_MS);
      },
      true,
    );
  } finally {
    await watch?.stop();
    for (const s of sides) {
      await s.keepalived?.stop('SIGTERM');
      await s.balancer?.stop('SIGTERM', 2_000);
    }
  }
  return {
    advertIntervalSec: advert,
    trackScript,
    keepalivedConfig: firstConfig,
    events,
    commands,
  };
}

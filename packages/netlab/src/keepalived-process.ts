/**
 * Runs keepalived in a lab namespace, in the foreground (`-n`), logging to the console (`-l`), with its own
 * config and pid files in a temp directory, VRRP only (`-P`). Registered with the cleanup registry, so it
 * is killed with the lab on success, failure, Ctrl-C and exit. State changes are parsed from its log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CleanupRegistry, labCleanup } from './cleanup-registry.js';
import { KeepalivedError } from './errors.js';
import { requireTool, tryRun } from './system-command.js';

/** Log lines kept for error messages: enough to see why keepalived stopped. */
const LOG_TAIL_LINES = 200;
/** SIGTERM grace before SIGKILL: keepalived sends priority 0 and removes its VIPs in well under this. */
export const KEEPALIVED_STOP_GRACE_MS = 3_000;

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface KeepalivedProcess {
  readonly pid: number;
  readonly configPath: string;
  readonly commandLine: string;
  state(): VrrpState;
  /** Resolves when the log says the instance entered `state` (rejects after timeoutMs or on exit). */
  waitFor(state: VrrpState, timeoutMs: number): Promise<void>;
  logTail(): string[];
  /** SIGKILL (a crash: no priority-0 advert) or SIGTERM (a clean stop). Resolves on exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /**
   * A crash of the whole daemon: SIGKILL to the parent and its VRRP child at once, so neither sends a
   * priority-0 advert nor removes the VIP (it stays configured on the interface, as after a real crash).
   */
  crash(): Promise<void>;
  readonly exited: Promise<void>;
}

export interface StartKeepalivedOptions {
  readonly ns: string;
  readonly config: string;
  /** Track script body, written beside the config as `track.sh` (0755); referenced by the config. */
  readonly trackScript?: string;
  /** Called with the temp directory so the config can point at the script path. */
  readonly registry?: CleanupRegistry;
}

/** Where the track script will be written for a config rendered before start. */
export function keepalivedWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'iolab-keepalived-'));
}

export function startKeepalived(
  options: StartKeepalivedOptions & { readonly dir: string },
): KeepalivedProcess {
  const ip = requireTool('ip');
  const keepalived = requireTool('keepalived');
  const registry = options.registry ?? labCleanup;
  const dir = options.dir;
  const configPath = join(dir, 'keepalived.conf');
  writeFileSync(configPath, options.config);
  if (options.trackScript !== undefined) {
    writeFileSync(join(dir, 'track.sh'), options.trackScript);
    chmodSync(join(dir, 'track.sh'), 0o755);
  }
  const args = [
    'netns',
    'exec',
    options.ns,
    keepalived,
    '-n',
    '-l',
    '-D',
    '-P',
    '-f',
    configPath,
    '-p',
    join(dir, 'keepalived.pid'),
    '-r',
    join(dir, 'vrrp.pid'),
    '-c',
    join(dir, 'checkers.pid'),
  ];
  const child: ChildProcess = spawn(ip, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new KeepalivedError(`could not start keepalived in ${options.ns}`);
  const pid = child.pid;
  let state: VrrpState = 'INIT';
  const tail: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      const m = /Entering (MASTER|BACKUP|FAULT) STATE/.exec(line);
      if (m) state = m[1] as VrrpState;
      for (const w of waiters) w();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      state = 'STOP';
      for (const w of waiters) w();
      resolve();
    });
  });

  const crashAll = (): void => {
    const pids = (tryRun('ip', ['netns', 'pids', options.ns]) ?? '').split(/\s+/).filter(Boolean).map(Number);
    const killed: number[] = [];
    for (const p of pids) {
      try {
        if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'keepalived') {
          process.kill(p, 'SIGKILL');
          killed.push(p);
        }
      } catch {
        // Gone already.
      }
    }
    // Until reaped, a killed process still shows in `pgrep keepalived`: wait (bounded, synchronously, as
    // this also runs in an 'exit' handler) for its /proc entry to go.
    const deadline = Date.now() + KEEPALIVED_STOP_GRACE_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    // Not our own child (`pid`): Node reaps it from the event loop, which this loop would block.
    const others = killed.filter((p) => p !== pid);
    while (others.some((p) => existsSync(`/proc/${p}`)) && Date.now() < deadline) {
      Atomics.wait(pause, 0, 0, 20);
    }
  };
  // The parent and its VRRP child: both, or the child would keep advertising until the namespace goes.
  const cleanup = registry.add(`keepalived ${pid} in ${options.ns}`, () => {
    crashAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const self: KeepalivedProcess = {
    pid,
    configPath,
    commandLine: ['ip', ...args].join(' '),
    state: () => state,
    logTail: () => [...tail],
    exited,
    waitFor: (wanted, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (state === wanted) done(undefined);
          else if (state === 'STOP' && wanted !== 'STOP')
            done(new KeepalivedError(`keepalived in ${options.ns} exited: ${tail.slice(-5).join(' | ')}`));
        };
        const timer = setTimeout(
          () =>
            done(
              new KeepalivedError(
                `keepalived in ${options.ns} not ${wanted} after ${timeoutMs} ms (state ${state}): ${tail.slice(-5).join(' | ')}`,
              ),
            ),
          timeoutMs,
        );
        const done = (error: Error | undefined): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (signal === 'SIGKILL') crashAll();
      if (state !== 'STOP') {
        try {
          process.kill(pid, signal);
        } catch {
          // Already gone.
        }
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone.
          }
        }, KEEPALIVED_STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      cleanup.dismiss();
      // A SIGKILLed parent can leave its VRRP child behind in the namespace: the namespace's removal kills it,
      // but a test that restarts keepalived in the same namespace needs it gone now.
      rmSync(dir, { recursive: true, force: true });
    },
    crash: async () => {
      crashAll();
      await self.stop('SIGKILL');
    },
  };
  return self;
}

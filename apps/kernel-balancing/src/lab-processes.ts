/**
 * Processes the experiment runs inside lab namespaces: real servers, the client probe, wrk. All go through
 * loadgen's managed processes (stopped on abort and at exit) or a bounded execFile.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, machineCpuMs, spawnManaged } from '@iolab/harness';
import { parseWrkOutput } from '@iolab/loadgen';
import { findTool, type Lab, labCleanup } from '@iolab/netlab';
import { REAL_SERVER_PORT, REAL_SERVER_PROXY_PORT, wrkPath } from './targets.js';

/** A helper script beside this module once built; from src/ (tests under vitest), the built one in dist/. */
function builtScript(name: string): string {
  const here = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL(`../dist/${name}`, import.meta.url));
}
const REAL_SERVER_JS = builtScript('real-server.js');
export const CLIENT_PROBE_JS = builtScript('client-probe.js');
/** wrk stops itself after -d; past this much extra it is wedged and killed. */
const WRK_SLACK_MS = 20_000;
/** A `who` probe waits up to 15 s for a first answer, then asks N more times at 1 s each at worst. */
const WHO_TIMEOUT_MS = 40_000;

export type RealServerKind = 'nginx' | 'node';

/** nginx when installed (a C server answering from memory: the director, not the servers, sets the pace). */
export function realServerKind(): RealServerKind {
  return findTool('nginx') ? 'nginx' : 'node';
}

/** HAProxy-style start for a server that prints nothing: announce, then `exec` (same pid). */
const ANNOUNCE_THEN_EXEC = 'echo "listening on exec:0"; exec "$@"';

function nginxRealServerConfig(dir: string, name: string): string {
  return [
    // One process: stopped by pid, and a forked worker would outlive a SIGKILLed master.
    'master_process off;',
    'daemon off;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  keepalive_requests 10000000;',
    `  server { listen 0.0.0.0:${REAL_SERVER_PORT}; default_type text/plain; location / { return 200 "${name} $remote_addr\\n"; } }`,
    `  server { listen 0.0.0.0:${REAL_SERVER_PROXY_PORT} proxy_protocol; default_type text/plain; location / { return 200 "${name} $proxy_protocol_addr (PROXY)\\n"; } }`,
    '}',
    '',
  ].join('\n');
}

/**
 * One real server per real-server namespace, answering `NAME <client address it sees>` on REAL_SERVER_PORT
 * and, behind a PROXY header, on REAL_SERVER_PROXY_PORT. nginx when installed, else real-server.js.
 */
export async function startRealServers(
  lab: Lab,
  signal: AbortSignal,
  dir?: string,
): Promise<ManagedProcess[]> {
  const nginx = findTool('nginx');
  return Promise.all(
    lab.realServers.map((r) => {
      let argv: string[];
      if (nginx && dir) {
        const own = join(dir, r.name);
        mkdirSync(own, { recursive: true });
        writeFileSync(join(own, 'nginx.conf'), nginxRealServerConfig(own, r.name));
        argv = ['sh', '-c', ANNOUNCE_THEN_EXEC, 'sh', nginx, '-p', own, '-c', join(own, 'nginx.conf')];
      } else {
        argv = [
          process.execPath,
          REAL_SERVER_JS,
          r.name,
          String(REAL_SERVER_PORT),
          String(REAL_SERVER_PROXY_PORT),
        ];
      }
      const [command, args] = lab.command(r.ns, argv[0]!, argv.slice(1));
      return spawnManaged({ command, args, signal, readyTimeoutMs: 20_000 });
    }),
  );
}

function execIn(
  lab: Lab,
  ns: string,
  argv: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string> {
  const [command, args] = lab.command(ns, argv[0]!, argv.slice(1));
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, signal, maxBuffer: 1 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${argv.join(' ')} in ${ns}: ${error.message} ${stderr}`.trim()));
        else resolve(stdout);
      },
    );
  });
}

export interface WhoAnswer {
  /** Real server that answered, e.g. `rs2`. */
  readonly server: string;
  /** The client address that server saw (`198.51.100.10`, `203.0.113.2`, or `198.51.100.10 (PROXY v2)`). */
  readonly seen: string;
}

/** N requests on new connections from the client namespace: who answered, and whom each server saw. */
export async function whoAnswers(
  lab: Lab,
  url: string,
  n: number,
  signal: AbortSignal,
): Promise<{ answers: WhoAnswer[]; errors: number }> {
  const out = await execIn(
    lab,
    lab.client.ns,
    [process.execPath, CLIENT_PROBE_JS, 'who', url, String(n)],
    WHO_TIMEOUT_MS,
    signal,
  );
  const parsed = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { answers?: string[]; errors?: number };
  return {
    answers: (parsed.answers ?? []).map((a) => {
      const [server = '?', ...rest] = a.split(' ');
      return { server, seen: rest.join(' ') };
    }),
    errors: parsed.errors ?? 1,
  };
}

export interface LoadRun {
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  /** CPU time of the forwarding process during the run (0 for direct and the kernel). */
  readonly procCpuMs: number;
  /** Softirq time of the whole machine during the run (/proc/stat), ms. */
  readonly softirqMs: number;
  /** Busy CPU time of the whole machine during the run (/proc/stat: all but idle and iowait), ms. */
  readonly machineBusyMs: number;
  readonly commandLine: string;
}

function cpuMs(proc: ManagedProcess | undefined): number {
  const s = proc?.sample();
  return s ? s.userCpuMs + s.systemCpuMs : 0;
}

/** wrk in the client namespace against `url`, with the director's process CPU and softirq around the run. */
export async function runWrkInClient(
  lab: Lab,
  url: string,
  o: {
    connections: number;
    durationSec: number;
    warmupSec: number;
    proc: ManagedProcess | undefined;
    signal: AbortSignal;
  },
): Promise<LoadRun> {
  const wrk = wrkPath();
  if (!wrk) throw new Error('wrk is not installed');
  const base = [wrk, '--latency', '-t', '1', '-c', String(o.connections), '--timeout', '5s'];
  if (o.warmupSec > 0)
    await execIn(
      lab,
      lab.client.ns,
      [...base, '-d', `${o.warmupSec}s`, url],
      o.warmupSec * 1000 + WRK_SLACK_MS,
      o.signal,
    );
  const argv = [...base, '-d', `${o.durationSec}s`, url];
  const cpu0 = cpuMs(o.proc);
  const m0 = machineCpuMs();
  const out = await execIn(lab, lab.client.ns, argv, o.durationSec * 1000 + WRK_SLACK_MS, o.signal);
  const m1 = machineCpuMs();
  const cpu1 = cpuMs(o.proc);
  const w = parseWrkOutput(out);
  return {
    requests: w.requests,
    requestsPerSec: w.requestsPerSec,
    p50Ms: w.latencyMs.p50,
    p99Ms: w.latencyMs.p99,
    errors: w.errors,
    non2xx: w.non2xx,
    procCpuMs: cpu1 - cpu0,
    softirqMs: m1.softirq - m0.softirq,
    machineBusyMs: m1.busy - m0.busy,
    commandLine: `ip netns exec ${lab.client.ns} ${argv.join(' ')}`,
  };
}

export interface WatchResult {
  /** Date.now() of the answer or failure. */
  readonly t: number;
  /** `n`: a new connection; `e`: one of the established keep-alive connections. */
  readonly k: 'n' | 'e';
  readonly ok: boolean;
  readonly body?: string;
  readonly err?: string;
}

/** Results kept: ~90 a second, so a 10-minute watch stays under ~5 MB. */
const MAX_WATCH_RESULTS = 60_000;

export interface Watch {
  results(): readonly WatchResult[];
  stop(): Promise<void>;
}

/**
 * The client probe in `watch` mode. Spawned directly (not through loadgen) because every line of its stdout
 * matters and loadgen keeps only a tail; registered with the lab's cleanup so it cannot outlive the run.
 */
export async function startWatch(lab: Lab, url: string): Promise<Watch> {
  const [command, args] = lab.command(lab.client.ns, process.execPath, [CLIENT_PROBE_JS, 'watch', url]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const cleanup = labCleanup.add(`client probe ${child.pid}`, () => void child.kill('SIGKILL'));
  const results: WatchResult[] = [];
  let buffered = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('client probe did not start')), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('listening on')) {
          clearTimeout(timer);
          resolve();
        } else if (line.startsWith('{') && results.length < MAX_WATCH_RESULTS) {
          results.push(JSON.parse(line) as WatchResult);
        }
      }
    });
    void exited.then(() => reject(new Error('client probe exited')));
  });
  return {
    results: () => results,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
      cleanup.dismiss();
    },
  };
}

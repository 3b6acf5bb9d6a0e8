/**
 * The balancer benchmark: HTTP keep-alive requests through `iolab balance` against the same two backends
 * reached directly, through HAProxy `mode tcp` (nbthread 1), nginx `stream` (1 process) and a naive
 * `stream.pipeline` proxy — one run, one client, one set of backends, every proxy pinned to the same core.
 *
 *   client (cpu 0) ──► proxy under test (cpu N-1) ──► backend A / backend B (cpu 0)
 *
 * Repetitions are interleaved (rep 1 of every target, then rep 2, …) so slow drift of a shared machine
 * spreads over all targets instead of penalising whichever ran last.
 *
 * Every process — backends, proxies and the load generator — is a child started through `@iolab/loadgen`
 * (`spawnManaged`, `runWrk`), so none outlives this one: each is stopped on return, on error and on
 * `options.signal`, and loadgen's registry kills what is left on exit, SIGINT and SIGTERM. That registry
 * signals one pid, not a process group, so every child here is a single process: nginx runs with
 * `master_process off` (no worker to orphan), HAProxy with `-db` (foreground, no fork). This process runs
 * nothing it measures; even autocannon runs in a child of its own, pinned to the client's core.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  diffSamples,
  type ExperimentOptions,
  findExecutable,
  type HttpLoadResult,
  type ManagedProcess,
  type ReportSection,
  runWrk,
  spawnManaged,
} from '@iolab/loadgen';
import { sampleTree } from './process-tree.js';

/** Which proxy sits between client and backends. `direct` talks to backend A only (no proxy at all). */
export type TargetName = 'direct' | 'iolab' | 'haproxy' | 'nginx' | 'naive';
export type ClientName = 'autocannon' | 'wrk';

export interface BalancerExperimentResults {
  readonly settings: {
    readonly connections: number;
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly repetitions: number;
    readonly proxyCpu: number | null;
    readonly clientCpu: number | null;
    readonly backend: string;
  };
  readonly skipped: readonly { readonly target: string; readonly reason: string }[];
  readonly runs: readonly RunResult[];
  readonly summary: readonly SummaryRow[];
  readonly ratios: Ratios;
  readonly profile?: ProfileSummary;
}

export interface RunResult {
  readonly target: TargetName;
  readonly client: ClientName;
  readonly repetition: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU of the proxy's process tree during the run, 100 = one core busy. `null` for `direct`. */
  readonly proxyCpuPercent: number | null;
  readonly clientCpuPercent: number | null;
}

export interface SummaryRow {
  readonly target: TargetName;
  readonly client: ClientName;
  readonly rpsMedian: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p99Median: number;
  readonly p99Min: number;
  readonly p99Max: number;
  readonly proxyCpuMedian: number | null;
  /** Proxy CPU microseconds per request: the cost that does not depend on how fast the client is. */
  readonly proxyCpuUsPerRequest: number | null;
  readonly clientCpuMedian: number | null;
  readonly errors: number;
}

export interface Ratio {
  readonly client: ClientName;
  readonly value: number;
  readonly target: number;
  readonly met: boolean;
}

export interface Ratios {
  /** iolab req/s ÷ HAProxy req/s (target ≥ 0.9). */
  readonly throughputVsHaproxy: readonly Ratio[];
  /** iolab p99 ÷ HAProxy p99 (target ≤ 1.25). */
  readonly p99VsHaproxy: readonly Ratio[];
  /** iolab req/s ÷ naive proxy req/s (target ≥ 1.3). */
  readonly throughputVsNaive: readonly Ratio[];
  /**
   * iolab proxy CPU µs per request ÷ HAProxy's (no target; lower is better). On a shared machine where no
   * proxy saturates its core this is the comparison that still means something.
   */
  readonly cpuPerRequestVsHaproxy: readonly Ratio[];
  readonly cpuPerRequestVsNaive: readonly Ratio[];
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly top: readonly { readonly name: string; readonly selfPercent: number }[];
}

/** Knobs for the standalone runner; the report orchestrator only passes {@link ExperimentOptions}. */
export interface BalancerExperimentExtras {
  /** Run `iolab balance` with `--cpu-prof` in one extra load run and summarise where its CPU went. */
  readonly profile?: boolean;
  readonly connections?: number;
  readonly targets?: readonly TargetName[];
  readonly log?: (line: string) => void;
  /**
   * Backends: `nginx` (default when installed: a C server answering from memory costs the shared core least,
   * so the proxy under test sets the pace), `iolab` (`iolab serve loop --protocol http`; the default without
   * nginx, falling back to `node` if it does not start) or `node` (two node:http processes).
   */
  readonly backend?: BackendKind;
}

export type BackendKind = 'nginx' | 'iolab' | 'node';

const BACKEND_DESCRIPTIONS: Record<BackendKind, string> = {
  nginx:
    'nginx http ×2 (one process each, `return 200`, keep-alive; the cheapest backend at hand, so the proxy sets the pace)',
  iolab: '`iolab serve loop --protocol http` ×2 (GET /plaintext)',
  node: 'node:http ×2 (keep-alive, 1 small text body)',
};
/** Every backend kind answers this path with a small 200 (nginx and node:http answer any path). */
const REQUEST_PATH = '/plaintext';

/** Keep-alive connections: enough to keep a single-threaded proxy busy, few enough for one client core. */
const DEFAULT_CONNECTIONS = 50;
/** Below this share of its core a proxy is not what limits throughput. */
const PROXY_SATURATED_PERCENT = 85;
/** A proxy or backend that has not said it is listening by then is broken, not slow. */
const START_TIMEOUT_MS = 10_000;
/** Stopping grace before SIGKILL: HAProxy and nginx finish in milliseconds; iolab drains its connections. */
const STOP_GRACE_MS = 3_000;

const BACKEND_SCRIPT = `
const http = require('node:http');
const body = Buffer.from('hello from ' + process.argv[1] + '\\n');
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening on 127.0.0.1:' + server.address().port + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;

const NAIVE_PROXY_SCRIPT = `
const net = require('node:net');
const { pipeline } = require('node:stream');
const backends = process.argv.slice(1).map((a) => { const [h, p] = a.split(':'); return { host: h, port: Number(p) }; });
let next = 0;
const server = net.createServer((client) => {
  const target = backends[next++ % backends.length];
  const upstream = net.connect(target);
  pipeline(client, upstream, () => {});
  pipeline(upstream, client, () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening on 127.0.0.1:' + server.address().port + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * autocannon's process: loadgen's `runHttpLoad` is in-process, and the client must not share a process (or a
 * core) with the experiment's bookkeeping, so it runs here, in a node child pinned like the backends. It
 * prints its result as its one stdout line, which doubles as spawnManaged's ready line.
 */
const AUTOCANNON_SCRIPT = `
const [loadgenUrl, optionsJson] = process.argv.slice(1);
const { runHttpLoad } = await import(loadgenUrl);
const result = await runHttpLoad(JSON.parse(optionsJson));
process.stdout.write('IOLAB_HTTP_LOAD_RESULT ' + JSON.stringify(result) + '\\n', () => process.exit(0));
`;
const AUTOCANNON_RESULT = /^IOLAB_HTTP_LOAD_RESULT (.*)$/;
/** Time on top of a client run for a node start and the autocannon import on a busy shared machine. */
const CLIENT_SLACK_MS = 30_000;

/** HAProxy and nginx print nothing when ready: announce the start, then `exec` (same pid) and poll the port. */
const ANNOUNCE_THEN_EXEC = 'echo "starting $$"; exec "$@"';

/** A free loopback port for peers that cannot listen on port 0 and report it (HAProxy, nginx). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ManagedProcess, signal: AbortSignal): Promise<void> {
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if (exited) throw new Error(`${proc.commandLine} exited:\n${proc.stderrTail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${proc.commandLine} is not accepting on 127.0.0.1:${port} after ${START_TIMEOUT_MS} ms`);
}

/** Like loadgen's `findExecutable`, but also where Debian keeps nginx and haproxy when PATH lacks sbin. */
function findTool(name: string): string | undefined {
  return (
    findExecutable(name) ??
    ['/usr/local/sbin', '/usr/sbin', '/sbin'].map((d) => join(d, name)).find(existsSync)
  );
}

const TICKS_PER_SECOND = 100; // USER_HZ is 100 on every mainstream Linux build.

/**
 * CPU ms of this process's exited and reaped children (cutime + cstime). Around `runWrk` the difference is
 * wrk's own CPU — loadgen reports none for wrk, and nothing else started here exits during a run.
 */
function reapedChildrenCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is stat field 3; cutime and cstime are fields 16 and 17.
    const ms = ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
    return Number.isFinite(ms) ? ms : null;
  } catch {
    return null;
  }
}

interface ClientResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connection errors (timeouts included) plus non-2xx answers. */
  readonly errors: number;
  readonly cpuPercent: number | null;
}

interface ClientSpec {
  readonly name: ClientName;
  run(url: string, seconds: number, connections: number): Promise<ClientResult>;
}

interface Context {
  readonly signal: AbortSignal;
  readonly commands: string[];
  readonly clientCpu: number | null;
}

function record(commands: string[], command: string): void {
  if (!commands.includes(command)) commands.push(command);
}

function fromLoad(result: HttpLoadResult, cpuPercent: number | null): ClientResult {
  return {
    requestsPerSecond: result.requestsPerSec,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    errors: result.errors + result.non2xx,
    cpuPercent,
  };
}

function autocannonClient(ctx: Context): ClientSpec {
  const loadgenUrl = pathToFileURL(createRequire(import.meta.url).resolve('@iolab/loadgen')).href;
  return {
    name: 'autocannon',
    async run(url, seconds, connections) {
      const proc = await spawnManaged({
        command: process.execPath,
        args: [
          '--input-type=module',
          '-e',
          AUTOCANNON_SCRIPT,
          loadgenUrl,
          JSON.stringify({ url, connections, durationSec: seconds }),
        ],
        ...(ctx.clientCpu === null ? {} : { cpu: ctx.clientCpu }),
        readyPattern: AUTOCANNON_RESULT,
        readyTimeoutMs: seconds * 1000 + CLIENT_SLACK_MS,
        signal: ctx.signal,
      });
      // The result is in hand; the child exits by itself right after it, this ends it if it has not.
      await proc.stop('SIGTERM', STOP_GRACE_MS);
      const result = JSON.parse(proc.readyMatch[1] ?? '') as HttpLoadResult;
      // `proc.pinned` reads the affinity at ready time, when this child may already be gone.
      const pin = proc.cpu === undefined ? '' : `, taskset -c ${proc.cpu}`;
      record(
        ctx.commands,
        `${result.commandLine.split('  #')[0]}  # loadgen runHttpLoad in its own node process${pin}`,
      );
      return fromLoad(result, result.loadgenCpu?.cpuPercent ?? null);
    },
  };
}

function wrkClient(ctx: Context): ClientSpec {
  return {
    name: 'wrk',
    async run(url, seconds, connections) {
      const started = performance.now();
      const cpuBefore = reapedChildrenCpuMs();
      const result = await runWrk({
        url,
        connections,
        durationSec: seconds,
        threads: 1,
        timeoutSec: 2, // wrk's own default, as before loadgen ran it
        ...(ctx.clientCpu === null ? {} : { cpu: ctx.clientCpu }),
        signal: ctx.signal,
      });
      const cpuAfter = reapedChildrenCpuMs();
      const wallMs = performance.now() - started;
      record(ctx.commands, result.commandLine);
      const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      return fromLoad(result, cpuMs === null ? null : (cpuMs / wallMs) * 100);
    },
  };
}

interface RunningTarget {
  readonly name: TargetName;
  readonly port: number;
  /** The proxy process whose CPU is measured; undefined for `direct`. */
  readonly proc?: ManagedProcess;
}

function haproxyConfig(port: number, backends: readonly number[]): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    ...backends.map((p, i) => `  server b${i} 127.0.0.1:${p}`),
    '',
  ].join('\n');
}

const NGINX_STREAM_MODULES = [
  '/usr/lib/nginx/modules/ngx_stream_module.so',
  '/usr/share/nginx/modules/ngx_stream_module.so',
];

function nginxConfig(dir: string, port: number, backends: readonly number[]): string {
  const module = NGINX_STREAM_MODULES.find((m) => existsSync(m));
  return [
    module ? `load_module ${module};` : '# stream module built in',
    // One process: loadgen stops children by pid, and a forked worker would outlive a SIGKILLed master.
    'master_process off;',
    'daemon off;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'nginx-error.log')} warn;`,
    'events { worker_connections 4096; }',
    'stream {',
    '  upstream be {',
    ...backends.map((p) => `    server 127.0.0.1:${p};`),
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    proxy_pass be;',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** An HTTP backend answering every request from memory; `keepalive_requests` high so keep-alive lasts. */
function nginxBackendConfig(dir: string, port: number, name: string): string {
  return [
    // One process: loadgen stops children by pid, and a forked worker would outlive a SIGKILLed master.
    'master_process off;',
    'daemon off;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  keepalive_requests 10000000;',
    '  keepalive_timeout 120s;',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    `    location / { default_type text/plain; return 200 "hello from ${name}\\n"; }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** nginx without the stream module cannot be a peer; tell that apart from nginx missing. */
function nginxHasStream(nginx: string): boolean {
  if (NGINX_STREAM_MODULES.some((m) => existsSync(m))) return true;
  try {
    const out = execFileSync(nginx, ['-V'], { encoding: 'utf8', stdio: 'pipe' });
    return /--with-stream(\s|$)/.test(out);
  } catch {
    return false;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Summarises a `.cpuprofile` by self time per function (name + file:line), top entries first. */
export function summariseCpuProfile(file: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    // Idle time says the process waited, not where it worked; percentages are of busy time.
    if (!node || node.callFrame.functionName === '(idle)') return;
    const frame = node.callFrame;
    const where = frame.url
      ? ` ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|apps)\//, '$1/')}:${frame.lineNumber + 1}`
      : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    self.set(name, (self.get(name) ?? 0) + delta);
    total += delta;
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, us]) => ({ name, selfPercent: (us / Math.max(total, 1)) * 100 }));
  return { file, totalMs: total / 1000, top };
}

/**
 * Runs the comparison and returns a report section. Throws only when nothing could be measured (backends or
 * `iolab balance` would not start); a missing peer (HAProxy, nginx, wrk) is skipped with a note.
 */
export async function runBalancerExperiment(
  options: ExperimentOptions,
  extras: BalancerExperimentExtras = {},
): Promise<ReportSection> {
  const { signal, quick } = options;
  const log = extras.log ?? (() => {});
  const commands: string[] = [];
  const procs: ManagedProcess[] = [];
  const skipped: { target: string; reason: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'iolab-balancer-bench-'));
  const connections = extras.connections ?? DEFAULT_CONNECTIONS;
  const durationSeconds = quick ? 2 : 5;
  const warmupSeconds = quick ? 1 : 2;
  const repetitions = quick ? 3 : 5;

  const cpus = availableParallelism();
  const tasksetPath = findExecutable('taskset');
  const proxyCpu = tasksetPath && cpus > 1 ? cpus - 1 : null;
  const clientCpu = tasksetPath && cpus > 1 ? 0 : null;
  const ctx: Context = { signal, commands, clientCpu };

  /** Starts a child that prints `listening on HOST:PORT` (or `readyPattern`); `signal` stops it too. */
  const spawnPinned = async (
    cpu: number | null,
    command: string,
    args: readonly string[],
    readyPattern?: RegExp,
  ): Promise<ManagedProcess> => {
    const proc = await spawnManaged({
      command,
      args,
      ...(cpu === null ? {} : { cpu }),
      ...(readyPattern ? { readyPattern } : {}),
      readyTimeoutMs: START_TIMEOUT_MS,
      signal,
    });
    procs.push(proc);
    record(commands, proc.commandLine);
    return proc;
  };
  /** Starts a peer that cannot announce itself (HAProxy, nginx) and waits until `port` accepts. */
  const spawnOnPort = async (
    cpu: number | null,
    command: string,
    args: readonly string[],
    port: number,
  ): Promise<ManagedProcess> => {
    const proc = await spawnPinned(
      cpu,
      '/bin/sh',
      ['-c', ANNOUNCE_THEN_EXEC, 'sh', command, ...args],
      /^starting \d+$/,
    );
    await waitForPort(port, proc, signal);
    return proc;
  };

  try {
    // Backends share the client's core so the proxy's core is the proxy's alone.
    const backendPorts: number[] = [];
    const nginxBin = findTool('nginx');
    let backendKind: BackendKind = extras.backend ?? (nginxBin ? 'nginx' : 'iolab');
    if (backendKind === 'nginx' && !nginxBin) {
      skipped.push({ target: 'nginx backends', reason: 'nginx is not installed; using iolab serve loop' });
      backendKind = 'iolab';
    }
    const startBackends = async (kind: BackendKind): Promise<void> => {
      for (const name of ['A', 'B']) {
        if (kind === 'nginx') {
          const port = await freePort();
          const prefix = join(dir, `backend-${name}`);
          mkdirSync(prefix, { recursive: true });
          const cfg = join(prefix, 'nginx.conf');
          writeFileSync(cfg, nginxBackendConfig(prefix, port, name));
          await spawnOnPort(clientCpu, nginxBin!, ['-p', prefix, '-c', cfg], port);
          backendPorts.push(port);
        } else if (kind === 'iolab') {
          const proc = await spawnPinned(clientCpu, process.execPath, [
            options.cliPath,
            'serve',
            'loop',
            '--protocol',
            'http',
            '--port',
            '0',
          ]);
          backendPorts.push(proc.port);
        } else {
          const proc = await spawnPinned(clientCpu, process.execPath, ['-e', BACKEND_SCRIPT, name]);
          backendPorts.push(proc.port);
        }
      }
    };
    try {
      await startBackends(backendKind);
    } catch (err) {
      // `iolab serve` is another package's work in progress; plain node:http backends measure the same thing.
      if (signal.aborted || backendKind !== 'iolab') throw err;
      skipped.push({
        target: 'iolab serve backends',
        reason: `did not start (${(err as Error).message.split('\n')[0]}); using node:http`,
      });
      backendPorts.length = 0;
      backendKind = 'node';
      await startBackends('node');
    }
    const backendList = backendPorts.map((p) => `127.0.0.1:${p}`);
    log(`backends on ${backendList.join(', ')}`);

    const wanted = new Set<TargetName>(extras.targets ?? ['direct', 'iolab', 'haproxy', 'nginx', 'naive']);
    const targets: RunningTarget[] = [];
    if (wanted.has('direct')) targets.push({ name: 'direct', port: backendPorts[0]! });

    const startIolab = async (extraNodeArgs: readonly string[]): Promise<RunningTarget> => {
      const proc = await spawnPinned(proxyCpu, process.execPath, [
        ...extraNodeArgs,
        options.cliPath,
        'balance',
        '--listen',
        '127.0.0.1:0',
        ...backendList.flatMap((b) => ['--backend', b]),
        '--policy',
        'round-robin',
        '--log-level',
        'warn',
      ]);
      return { name: 'iolab', port: proc.port, proc };
    };
    if (wanted.has('iolab')) targets.push(await startIolab([]));

    if (wanted.has('haproxy')) {
      const haproxy = findTool('haproxy');
      if (!haproxy) skipped.push({ target: 'haproxy', reason: 'haproxy is not installed' });
      else {
        const port = await freePort();
        const cfg = join(dir, 'haproxy.cfg');
        writeFileSync(cfg, haproxyConfig(port, backendPorts));
        try {
          const proc = await spawnOnPort(proxyCpu, haproxy, ['-db', '-f', cfg], port);
          targets.push({ name: 'haproxy', port, proc });
        } catch (err) {
          if (signal.aborted) throw err;
          skipped.push({
            target: 'haproxy',
            reason: `did not start: ${(err as Error).message.slice(0, 300)}`,
          });
        }
      }
    }
    if (wanted.has('nginx')) {
      const nginx = findTool('nginx');
      if (!nginx) skipped.push({ target: 'nginx', reason: 'nginx is not installed' });
      else if (!nginxHasStream(nginx)) {
        skipped.push({
          target: 'nginx',
          reason: 'nginx has no stream module (apt install libnginx-mod-stream)',
        });
      } else {
        const port = await freePort();
        const cfg = join(dir, 'nginx.conf');
        writeFileSync(cfg, nginxConfig(dir, port, backendPorts));
        try {
          const proc = await spawnOnPort(proxyCpu, nginx, ['-p', dir, '-c', cfg], port);
          targets.push({ name: 'nginx', port, proc });
        } catch (err) {
          if (signal.aborted) throw err;
          skipped.push({ target: 'nginx', reason: `did not start: ${(err as Error).message.slice(0, 300)}` });
        }
      }
    }
    if (wanted.has('naive')) {
      const proc = await spawnPinned(proxyCpu, process.execPath, ['-e', NAIVE_PROXY_SCRIPT, ...backendList]);
      targets.push({ name: 'naive', port: proc.port, proc });
    }

    // Quick mode runs one client: wrk when installed (starts at once, needs the least CPU), else autocannon.
    // runWrk looks wrk up on PATH, so this check must too.
    const wrk = findExecutable('wrk');
    const clients: ClientSpec[] = [];
    if (!quick || !wrk) clients.push(autocannonClient(ctx));
    else skipped.push({ target: 'autocannon (client)', reason: 'quick mode runs wrk only' });
    if (!wrk) skipped.push({ target: 'wrk (client)', reason: 'wrk is not installed; autocannon only' });
    else clients.push(wrkClient(ctx));

    const total = clients.length * targets.length * (repetitions + 1);
    let done = 0;
    const progress = (scenario: string): void =>
      options.progress({
        scenario: `balancer: ${scenario}`,
        done,
        total,
        etaSeconds: (total - done) * (durationSeconds + 0.5),
      });

    const runs: RunResult[] = [];
    for (const client of clients) {
      for (const target of targets) {
        if (signal.aborted) throw signal.reason ?? new Error('aborted');
        progress(`${client.name} warm-up ${target.name}`);
        await client.run(`http://127.0.0.1:${target.port}${REQUEST_PATH}`, warmupSeconds, connections);
        done++;
      }
      for (let rep = 1; rep <= repetitions; rep++) {
        for (const target of targets) {
          if (signal.aborted) throw signal.reason ?? new Error('aborted');
          progress(`${client.name} → ${target.name} rep ${rep}/${repetitions}`);
          // The proxy's whole process tree, in case a peer forks after all.
          const before = target.proc ? sampleTree(target.proc.pid) : undefined;
          const result = await client.run(
            `http://127.0.0.1:${target.port}${REQUEST_PATH}`,
            durationSeconds,
            connections,
          );
          const after = target.proc ? sampleTree(target.proc.pid) : undefined;
          done++;
          const run: RunResult = {
            target: target.name,
            client: client.name,
            repetition: rep,
            requestsPerSecond: result.requestsPerSecond,
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
            errors: result.errors,
            proxyCpuPercent: before && after ? diffSamples(before, after).cpuPercent : null,
            clientCpuPercent: result.cpuPercent,
          };
          runs.push(run);
          log(
            `${client.name} ${target.name} rep ${rep}: ${fmt(run.requestsPerSecond)} req/s p99 ${fmt(run.p99Ms, 2)} ms` +
              ` proxy cpu ${fmt(run.proxyCpuPercent)}% client cpu ${fmt(run.clientCpuPercent)}%`,
          );
        }
      }
    }

    let profile: ProfileSummary | undefined;
    if (extras.profile && !signal.aborted) {
      const profDir = join(dir, 'prof');
      const target = await startIolab(['--cpu-prof', '--cpu-prof-dir', profDir]);
      await clients[0]!.run(
        `http://127.0.0.1:${target.port}${REQUEST_PATH}`,
        durationSeconds * 2,
        connections,
      );
      await target.proc!.stop('SIGTERM', STOP_GRACE_MS);
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) profile = summariseCpuProfile(join(profDir, file));
      else
        skipped.push({
          target: 'profile',
          reason: 'iolab balance wrote no .cpuprofile (did it exit cleanly?)',
        });
    }

    const summary = summarise(runs);
    const ratios = computeRatios(summary);
    const results: BalancerExperimentResults = {
      settings: {
        connections,
        durationSeconds,
        warmupSeconds,
        repetitions,
        proxyCpu,
        clientCpu,
        backend: BACKEND_DESCRIPTIONS[backendKind],
      },
      skipped,
      runs,
      summary,
      ratios,
      ...(profile ? { profile } : {}),
    };
    return {
      id: 'balancer',
      title: 'Layer-4 balancer: iolab balance vs HAProxy, nginx stream and a naive proxy',
      markdown: renderMarkdown(results),
      conclusions: conclusions(results),
      charts: [chart(summary)],
      commands,
      results,
    };
  } finally {
    await Promise.all(procs.map((proc) => proc.stop('SIGTERM', STOP_GRACE_MS)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarise(runs: readonly RunResult[]): SummaryRow[] {
  const keys = [...new Set(runs.map((r) => `${r.client}\u0000${r.target}`))];
  return keys.map((key) => {
    const group = runs.filter((r) => `${r.client}\u0000${r.target}` === key);
    const first = group[0]!;
    const rps = group.map((r) => r.requestsPerSecond);
    const p99 = group.map((r) => r.p99Ms);
    const proxyCpu = group.map((r) => r.proxyCpuPercent).filter((v): v is number => v !== null);
    const clientCpu = group.map((r) => r.clientCpuPercent).filter((v): v is number => v !== null);
    const rpsMedian = median(rps);
    const proxyCpuMedian = proxyCpu.length > 0 ? median(proxyCpu) : null;
    return {
      target: first.target,
      client: first.client,
      rpsMedian,
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p99Median: median(p99),
      p99Min: Math.min(...p99),
      p99Max: Math.max(...p99),
      proxyCpuMedian,
      // CPU% is per 100 ms of wall per second: (cpu% / 100) s of CPU per second / requests per second.
      proxyCpuUsPerRequest: proxyCpuMedian === null ? null : ((proxyCpuMedian / 100) * 1e6) / rpsMedian,
      clientCpuMedian: clientCpu.length > 0 ? median(clientCpu) : null,
      errors: group.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}

function computeRatios(summary: readonly SummaryRow[]): Ratios {
  const clients = [...new Set(summary.map((s) => s.client))];
  const find = (client: ClientName, target: TargetName): SummaryRow | undefined =>
    summary.find((s) => s.client === client && s.target === target);
  const make = (
    pick: (iolab: SummaryRow, peer: SummaryRow) => number,
    peer: TargetName,
    goal: number,
    higherIsBetter: boolean,
  ): Ratio[] =>
    clients.flatMap((client) => {
      const iolab = find(client, 'iolab');
      const other = find(client, peer);
      if (!iolab || !other) return [];
      const value = pick(iolab, other);
      return [{ client, value, target: goal, met: higherIsBetter ? value >= goal : value <= goal }];
    });
  return {
    throughputVsHaproxy: make((a, b) => a.rpsMedian / b.rpsMedian, 'haproxy', 0.9, true),
    p99VsHaproxy: make((a, b) => a.p99Median / b.p99Median, 'haproxy', 1.25, false),
    throughputVsNaive: make((a, b) => a.rpsMedian / b.rpsMedian, 'naive', 1.3, true),
    cpuPerRequestVsHaproxy: make(
      (a, b) => (a.proxyCpuUsPerRequest ?? Number.NaN) / (b.proxyCpuUsPerRequest ?? Number.NaN),
      'haproxy',
      Number.NaN,
      false,
    ),
    cpuPerRequestVsNaive: make(
      (a, b) => (a.proxyCpuUsPerRequest ?? Number.NaN) / (b.proxyCpuUsPerRequest ?? Number.NaN),
      'naive',
      Number.NaN,
      false,
    ),
  };
}

/** The Markdown table plus method and caveats; every number comes from `results`. */
export function renderMarkdown(results: BalancerExperimentResults): string {
  const s = results.settings;
  const lines: string[] = [];
  lines.push(
    `HTTP/1.1 keep-alive, ${s.connections} connections, ${s.repetitions} interleaved repetitions of ` +
      `${s.durationSeconds} s after a ${s.warmupSeconds} s warm-up per target; backends: ${s.backend}. ` +
      (s.proxyCpu === null
        ? 'No CPU pinning (taskset missing or one CPU).'
        : `Every proxy pinned to CPU ${s.proxyCpu}; client and backends pinned to CPU ${s.clientCpu}.`) +
      ' `direct` = the client against backend A with no proxy.',
    '',
    '| client | target | req/s median | req/s min–max | p99 ms median | p99 min–max | proxy CPU % | proxy µs CPU/req | client CPU % | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const row of results.summary) {
    lines.push(
      `| ${row.client} | ${row.target} | ${fmt(row.rpsMedian)} | ${fmt(row.rpsMin)}–${fmt(row.rpsMax)} | ` +
        `${fmt(row.p99Median, 2)} | ${fmt(row.p99Min, 2)}–${fmt(row.p99Max, 2)} | ${fmt(row.proxyCpuMedian)} | ` +
        `${fmt(row.proxyCpuUsPerRequest, 1)} | ${fmt(row.clientCpuMedian)} | ${row.errors} |`,
    );
  }
  const ratioLines = (label: string, list: readonly Ratio[], op: string): string[] =>
    list.map(
      (r) =>
        `- ${label} (${r.client}): **${fmt(r.value, 2)}×** (target ${op} ${r.target}×) — ${r.met ? 'met' : 'NOT met'}`,
    );
  lines.push(
    '',
    ...ratioLines('iolab ÷ HAProxy throughput', results.ratios.throughputVsHaproxy, '≥'),
    ...ratioLines('iolab ÷ HAProxy p99', results.ratios.p99VsHaproxy, '≤'),
    ...ratioLines('iolab ÷ naive throughput', results.ratios.throughputVsNaive, '≥'),
  );
  for (const r of results.ratios.cpuPerRequestVsHaproxy) {
    lines.push(
      `- iolab ÷ HAProxy proxy CPU per request (${r.client}): **${fmt(r.value, 2)}×** (lower is better)`,
    );
  }
  for (const r of results.ratios.cpuPerRequestVsNaive) {
    lines.push(
      `- iolab ÷ naive proxy CPU per request (${r.client}): **${fmt(r.value, 2)}×** (lower is better)`,
    );
  }
  const unsaturated = results.summary.filter(
    (r) => r.proxyCpuMedian !== null && r.proxyCpuMedian < PROXY_SATURATED_PERCENT,
  );
  if (unsaturated.length > 0) {
    lines.push(
      '',
      `Caveat: no proxy row reached ${PROXY_SATURATED_PERCENT} % of its core (` +
        unsaturated.map((r) => `${r.target} ${fmt(r.proxyCpuMedian)} %`).join(', ') +
        '), so requests/s and p99 were set by the client, the backends or other load on the machine, not by ' +
        'the proxy; the proxy CPU µs per request column is the fairer comparison here.',
    );
  }
  if (results.skipped.length > 0) {
    lines.push('', 'Skipped:', ...results.skipped.map((x) => `- ${x.target}: ${x.reason}`));
  }
  const clientBound = results.summary.filter((r) => r.clientCpuMedian !== null && r.clientCpuMedian >= 90);
  if (clientBound.length > 0) {
    lines.push(
      '',
      `Caveat: the client used ≥ 90 % of its core for ${clientBound.map((r) => `${r.client}→${r.target}`).join(', ')}; ` +
        'there the client, not the proxy, may set the pace — compare proxy µs CPU/req instead.',
    );
  }
  if (results.profile) {
    lines.push(
      '',
      `CPU profile of iolab balance under the same load (${fmt(results.profile.totalMs)} ms busy), top self time (% of busy):`,
      '',
      '| self % | function |',
      '|---:|---|',
      ...results.profile.top.map((t) => `| ${fmt(t.selfPercent, 1)} | \`${t.name}\` |`),
    );
  }
  return lines.join('\n');
}

function conclusions(results: BalancerExperimentResults): string[] {
  const out: string[] = [];
  for (const r of results.ratios.throughputVsHaproxy) {
    out.push(
      `iolab balance serves ${fmt(r.value, 2)}× HAProxy's requests/s with ${r.client} (target ≥ 0.9×)`,
    );
  }
  for (const r of results.ratios.p99VsHaproxy) {
    out.push(`iolab balance p99 is ${fmt(r.value, 2)}× HAProxy's with ${r.client} (target ≤ 1.25×)`);
  }
  for (const r of results.ratios.throughputVsNaive) {
    out.push(
      `iolab balance serves ${fmt(r.value, 2)}× the naive pipe() proxy's requests/s with ${r.client} (target ≥ 1.3×)`,
    );
  }
  return out;
}

function chart(summary: readonly SummaryRow[]): { id: string; title: string; spec: Record<string, unknown> } {
  return {
    id: 'balancer-rps',
    title: 'Requests/s through each proxy (median of repetitions)',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: {
        values: summary.map((r) => ({
          client: r.client,
          target: r.target,
          rps: r.rpsMedian,
          p99: r.p99Median,
        })),
      },
      mark: 'bar',
      encoding: {
        x: { field: 'target', type: 'nominal', sort: ['direct', 'iolab', 'haproxy', 'nginx', 'naive'] },
        y: { field: 'rps', type: 'quantitative', title: 'requests/s' },
        column: { field: 'client', type: 'nominal' },
        tooltip: [{ field: 'p99', type: 'quantitative', title: 'p99 ms' }],
      },
    },
  };
}

/**
 * Small real backends and clients for the balancer's tests (not part of the build: `test-*.ts`).
 * Everything started here registers itself in `cleanup`, which tests drain in `afterEach`.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createBalancer } from './balancer.js';
import type { Balancer, StartResult } from './balancer-api.js';
import type { BalancerConfig } from './config.js';

type Closer = () => Promise<void> | void;
const closers: Closer[] = [];

/** Stop everything started since the last call (backends, balancers, clients, children). */
export async function cleanup(): Promise<void> {
  const list = closers.splice(0).reverse();
  for (const c of list) {
    try {
      await c();
    } catch {
      // Best effort: one failed close must not leak the rest.
    }
  }
}

export interface TestBackend {
  id: string;
  port: number;
  server: Server;
  /** Sockets accepted so far (live and closed). */
  accepted: number;
  sockets: Set<Socket>;
  /** Close the listener and reset every live connection (a crashed backend). */
  kill(): Promise<void>;
  /** Listen again on the same port. */
  revive(): Promise<void>;
}

export type BackendBehaviour =
  /** Write `id\n`, then echo whatever arrives, end after the client ends. */
  | 'id'
  /** Write `id\n` and close at once. */
  | 'id-close'
  /** Echo bytes back; on client FIN, finish echoing then FIN. */
  | 'echo'
  /** Accept and hold: reads and discards, never writes, never closes. */
  | 'hold';

export async function startBackend(
  id: string,
  behaviour: BackendBehaviour = 'id',
  onConnection?: (s: Socket) => void,
): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  const b: TestBackend = {
    id,
    port: 0,
    accepted: 0,
    sockets,
    server: undefined as unknown as Server, // set just below
    kill: async () => {
      for (const s of sockets) s.resetAndDestroy();
      await new Promise<void>((r) => (b.server.listening ? b.server.close(() => r()) : r()));
    },
    revive: async () => {
      b.server = make();
      await new Promise<void>((r) => b.server.listen(b.port, '127.0.0.1', () => r()));
    },
  };
  const make = () => {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      b.accepted += 1;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      if (onConnection) {
        onConnection(s);
        return;
      }
      if (behaviour === 'id' || behaviour === 'id-close') s.write(`${id}\n`);
      if (behaviour === 'id-close') {
        s.end();
        s.resume();
      } else if (behaviour === 'hold') s.resume();
      else {
        s.pipe(s);
      }
    });
    return server;
  };
  b.server = make();
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', () => r()));
  b.port = (b.server.address() as { port: number }).port;
  closers.push(() => b.kill());
  return b;
}

export async function startBalancer(
  config: BalancerConfig,
): Promise<{ lb: Balancer; port: number; start: StartResult }> {
  const lb = createBalancer(config);
  const start = await lb.start();
  closers.push(() => lb.close(0));
  return { lb, port: start.addresses[0]!.port, start };
}

/** A connected client socket (registered for cleanup). */
export function connectClient(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host, allowHalfOpen: true });
    closers.push(() => {
      s.destroy();
    });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Read until the peer closes (or `maxBytes`); resolves with everything read. */
export function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

/** Read the first line. */
export function readLine(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('latin1');
      const i = buf.indexOf('\n');
      if (i >= 0) {
        s.off('data', onData);
        resolve(buf.slice(0, i));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', () => resolve(buf));
  });
}

/** Connect, read the backend's id line, close. */
export async function whoServes(port: number): Promise<string> {
  const s = await connectClient(port);
  const line = await readLine(s);
  s.destroy();
  return line;
}

export { sleep } from '@iolab/testkit';

export function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

// --- a balancer in a child process (its RSS and fds are its own) -------------------------------------------

export interface ChildBalancer {
  port: number;
  child: ChildProcess;
  /** `accept-error` events the child reported. */
  acceptErrors: { error: string }[];
  /** connection-end count and reasons, as of the last sample. */
  ends(): { count: number; reasons: Record<string, number> };
  /** Latest RSS sample, bytes (the child reports every 100 ms). */
  rss(): number;
  maxRss(): number;
  /** Every RSS sample so far (one per 100 ms). */
  samples: number[];
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./test-child-balancer.ts', import.meta.url));

/** Run `createBalancer(config)` in a child `node --import tsx`, optionally under `ulimit -n <fdLimit>`. */
export function startChildBalancer(config: BalancerConfig, fdLimit?: number): Promise<ChildBalancer> {
  const args = ['--import', 'tsx', CHILD, JSON.stringify(config)];
  const child =
    fdLimit === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, ...args], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  let rss = 0;
  let maxRss = 0;
  let ends = { count: 0, reasons: {} as Record<string, number> };
  const acceptErrors: { error: string }[] = [];
  const samples: number[] = [];
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  };
  closers.push(stop);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.once('exit', (code, signal) => reject(new Error(`child balancer exited early: ${code ?? signal}`)));
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const msg = JSON.parse(line) as {
          ready?: number;
          rss?: number;
          ends?: number;
          reasons?: Record<string, number>;
          event?: string;
          error?: string;
        };
        if (msg.rss !== undefined) {
          rss = msg.rss;
          maxRss = Math.max(maxRss, rss);
          samples.push(rss);
          ends = { count: msg.ends ?? 0, reasons: msg.reasons ?? {} };
        }
        if (msg.event === 'accept-error') acceptErrors.push({ error: msg.error ?? '' });
        if (msg.ready !== undefined) {
          resolve({
            port: msg.ready,
            child,
            acceptErrors,
            ends: () => ends,
            rss: () => rss,
            maxRss: () => maxRss,
            samples,
            stop,
          });
        }
      }
    });
  });
}

/**
 * A loopback port whose connects hang (SYN dropped): a python3 socket listening with backlog 0 that never
 * accepts, its one queue slot taken by a filler connection. Node cannot listen without accepting, hence the
 * helper process. Resolves `undefined` when python3 is missing (callers skip).
 */
export async function startBlackhole(): Promise<{ port: number } | undefined> {
  const script =
    'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\n' +
    'print(s.getsockname()[1],flush=True)\nsys.stdin.read()';
  let py: ChildProcess;
  try {
    py = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  closers.push(() => {
    py.kill('SIGKILL');
  });
  const port = await new Promise<number | undefined>((resolve) => {
    py.once('error', () => resolve(undefined));
    py.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  if (port === undefined) return undefined;
  const filler = await connectClient(port);
  filler.on('error', () => {});
  return { port };
}

/** The soft `ulimit -n` of this process (Linux /proc), or undefined where unknown. */
export async function openFileLimit(): Promise<number | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const limits = await readFile('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (m === null) return undefined;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return undefined;
  }
}

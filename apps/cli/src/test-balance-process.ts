/**
 * Test support for `iolab balance` as a real process (not part of the build: `test-*.ts`): spawn the built
 * CLI, wait for lines on stdout/stderr, tiny TCP backends, and one `cleanup()` that stops all of it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep, untilValue } from '@iolab/testkit';

/** The built CLI (tests run after `npm run build`; turbo's `test` depends on `build`). */
export const CLI = fileURLToPath(new URL('../bin/iolab.js', import.meta.url));

type Closer = () => Promise<void> | void;
const closers: Closer[] = [];

export async function cleanup(): Promise<void> {
  for (const c of closers.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // Keep closing the rest.
    }
  }
}

export interface BalanceProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** JSON log lines seen on stderr so far. */
  logs(): Record<string, unknown>[];
  /**
   * Resolves with the first match of `re` on stdout (or stderr), waiting up to `timeoutMs`; rejects at once
   * if the process exits first. testkit's `untilValue` does the polling, so the tree has one wait loop.
   */
  untilOutput(re: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Output kept per stream; a test that needs more is doing something wrong. */
const OUTPUT_CAP = 4 * 1024 * 1024;

export function startBalance(
  args: readonly string[],
  command: readonly string[] = [process.execPath, CLI],
): BalanceProcess {
  const [file, ...pre] = command;
  const child = spawn(file!, [...pre, 'balance', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    if (out.length < OUTPUT_CAP) out += c.toString('utf8');
  });
  child.stderr!.on('data', (c: Buffer) => {
    if (err.length < OUTPUT_CAP) err += c.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  closers.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const proc: BalanceProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async untilOutput(re, stream = 'stdout', timeoutMs = 10_000) {
      try {
        return await untilValue(
          () => {
            const m = re.exec(stream === 'stdout' ? out : err);
            if (m) return m;
            if (child.exitCode !== null || child.signalCode !== null) {
              throw new Error(`iolab balance exited (${child.exitCode ?? child.signalCode}) before ${re}`);
            }
            return undefined;
          },
          `${re} on ${stream}`,
          timeoutMs,
        );
      } catch (e) {
        // The process's output is what explains a failed start; keep it in the message.
        throw new Error(`${e instanceof Error ? e.message : String(e)}:\n${out}\n${err}`);
      }
    },
    exited,
  };
  return proc;
}

/** Starts `iolab balance` and waits for `listening on HOST:PORT`; returns the port. */
export async function startListening(
  args: readonly string[],
): Promise<{ proc: BalanceProcess; port: number }> {
  const proc = startBalance(args);
  const m = await proc.untilOutput(/^listening on 127\.0\.0\.1:(\d+)$/m);
  return { proc, port: Number(m[1]) };
}

export interface IdBackend {
  readonly id: string;
  readonly port: number;
  readonly server: Server;
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A backend that writes `id\n`, then echoes. */
export function startIdBackend(id: string): Promise<IdBackend> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: false }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.write(`${id}\n`);
    s.pipe(s);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const b: IdBackend = {
        id,
        port: (server.address() as { port: number }).port,
        server,
        sockets,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      };
      closers.push(() => b.close());
      resolve(b);
    });
  });
}

/** A connected client that collects lines. */
export interface LineClient {
  readonly socket: Socket;
  nextLine(timeoutMs?: number): Promise<string>;
  readonly closed: Promise<void>;
}

export function connectLines(port: number, host = '127.0.0.1'): Promise<LineClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    closers.push(() => {
      socket.destroy();
    });
    let buf = '';
    const waiters: ((line: string) => void)[] = [];
    const lines: string[] = [];
    socket.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiters.shift();
        if (w) w(line);
        else lines.push(line);
        i = buf.indexOf('\n');
      }
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        closed,
        nextLine(timeoutMs = 5000) {
          const ready = lines.shift();
          if (ready !== undefined) return Promise.resolve(ready);
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error('no line within timeout')), timeoutMs);
            waiters.push((l) => {
              clearTimeout(t);
              res(l);
            });
          });
        },
      }),
    );
  });
}

/** Connects, reads the backend's id line, closes. */
export async function whoServes(port: number): Promise<string> {
  const c = await connectLines(port);
  const id = await c.nextLine();
  c.socket.destroy();
  return id;
}

export { sleep };

export function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

export function registerCleanup(c: Closer): void {
  closers.push(c);
}

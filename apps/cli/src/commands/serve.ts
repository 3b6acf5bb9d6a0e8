/**
 * `iolab serve <model>`: start one server model, print `listening on HOST:PORT` on stdout once it accepts
 * connections, drain on SIGTERM/SIGINT and exit 0. Usage errors exit 2; a server that cannot start exits 1.
 */
import { spawn } from 'node:child_process';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_THREADS, DEFAULT_THREAD_KEEP_ALIVE_MS, startBio } from '@iolab/server-bio';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  findTransferCapableNode,
  IolabServerError,
  type RunningServer,
  SOCKET_MODE_CHOICES,
  type SocketModeChoice,
} from '@iolab/server-core';
import { startLoop, startNodeHttp } from '@iolab/server-loop';
import { DEFAULT_QUEUE, DEFAULT_THREADS, startPool } from '@iolab/server-pool';

const MODELS = ['bio', 'pool', 'loop', 'node-http'] as const;
type Model = (typeof MODELS)[number];
const PROTOCOLS = ['http', 'echo-lp', 'echo-line'] as const;
type Protocol = (typeof PROTOCOLS)[number];

export const SERVE_HELP = `usage: iolab serve <bio|pool|loop|node-http> [options]

models:
  bio         a worker thread per connection running blocking code (--socket: owned or relayed); a
              thread whose connection closed waits --thread-keep-alive for the next one
              (Java's Executors.newCachedThreadPool)
  pool        a piscina pool of worker threads (--mode connection: a connection holds a thread until it
              closes; --mode request: the event loop parses, each request's operation runs in the pool)
  loop        one thread, one event loop, every connection on it (--workers N: N loops via node:cluster)
  node-http   the loop with node:http instead of our HTTP session (reference; --protocol http only)

routes (--protocol http; every model serves the same ones):
  GET /plaintext      "Hello, World!" (text/plain)
  GET /json           {"message":"Hello, World!"}
  GET /cpu?n=N        N rounds of SHA-256 on the handler's thread (N ≤ 1000000), hex digest
  GET /sleep?ms=N     wait N ms (≤ 10000): blocks the thread in bio and pool, a timer in loop/node-http
  POST /echo          the request body back (≤ 1 MiB)
  echo-lp / echo-line carry the same operations as frames (see @iolab/protocols).

socket modes (bio, pool --mode connection):
  owned   each connection's thread owns its socket: the accepting thread transfers it (Node 26.12+ on
          Unix), and the thread reads, parses, runs the handler and writes; idle, it waits on that one
          socket, as a Java thread waits in a blocked read()
  relay   the main thread owns every socket and moves bytes through shared-memory rings to a thread
          parked in Atomics.wait (the only way on Node that cannot transfer sockets)
`;
const SERVE_OPTIONS_HELP = `
options:
  --protocol http|echo-lp|echo-line   wire protocol (default http)
  --host HOST                          address to listen on (default 127.0.0.1)
  --port N                             port; 0 picks a free one, printed on stdout (default 0)
  --drain-timeout MS                   on SIGTERM/SIGINT, let in-flight requests finish this long, then
                                       close what is left (default ${DEFAULT_DRAIN_TIMEOUT_MS})
  --header-timeout MS                  the whole request head (framed: a frame) must arrive within MS,
                                       else HTTP 408 (framed: an error reply) and close; a new connection's
                                       first head counts from accept; 0 = never (default ${DEFAULT_HEADER_TIMEOUT_MS},
                                       Tomcat's connectionTimeout; nginx and node:http use 60 s)
  --idle-timeout MS                    close a keep-alive connection with nothing in flight (or a body with
                                       no byte) after MS; 0 = never (default ${DEFAULT_IDLE_TIMEOUT_MS}, Tomcat's)
                                       In bio and pool threads both are a read with a deadline (SO_TIMEOUT).
  --stats-interval MS                  print a JSON stats line to stderr every MS (and one at exit);
                                       fields: connections, peakConnections, threadsAlive, threadsPeak,
                                       threadsStarted, threadsReused, threadsIdle (bio), queueLength, requests,
                                       errors (the server's own failures), peerResets (clients that reset or
                                       closed with an answer unread), rejected (bad input refused: 4xx / error
                                       reply, closed),
                                       refused, headerTimeouts, idleTimeouts, socketMode (bio, pool),
                                       rssBytes (default off)
  --node PATH|auto                     run the server under another Node binary (also IOLAB_NODE);
                                       auto: the first that can transfer sockets — this one, a cached
                                       copy, or node-<os>-<arch>@26.12 installed from npm on first use
  -h, --help                           this text

bio, pool --mode connection:
  --socket relay|owned|auto            see socket modes; auto (default) picks owned where this Node can
                                       transfer sockets, probed at start; the stats line says which
bio:
  --max-threads N      live threads (busy + idle) at most: a connection that finds no idle thread at
                       the cap gets HTTP 503 (framed: close) (default ${DEFAULT_MAX_THREADS})
  --thread-keep-alive MS
                       a thread whose connection closed waits MS for the next connection, which then
                       pays no thread start-up; 0 = end it with its connection (default
                       ${DEFAULT_THREAD_KEEP_ALIVE_MS}, the JDK cached thread pool's keep-alive)
pool:
  --mode connection|request            (default connection)
  --threads N          pool threads, piscina min = max = N (default ${DEFAULT_THREADS}: 2 × cores)
  --queue N            tasks waiting for a thread before refusal: connection mode refuses the
                       connection (503/close), request mode answers 503 (default ${DEFAULT_QUEUE})
loop:
  --workers N          run N event loops under node:cluster on one socket (default 1); a worker
                       that dies is respawned with a backoff and a line on stderr

stdout carries exactly one line, "listening on HOST:PORT"; logs and stats go to stderr.
`;
const FULL_HELP = `${SERVE_HELP}${SERVE_OPTIONS_HELP}`;

class UsageError extends Error {}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return Number(value);
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

const ONLY_FOR: Record<string, readonly Model[]> = {
  'max-threads': ['bio'],
  'thread-keep-alive': ['bio'],
  threads: ['pool'],
  queue: ['pool'],
  mode: ['pool'],
  workers: ['loop'],
  socket: ['bio', 'pool'],
};

interface ServeCommand {
  readonly model: Model;
  readonly protocol: Protocol;
  readonly host: string;
  readonly drainTimeoutMs: number;
  readonly statsIntervalMs: number | undefined;
  readonly node: string | undefined;
  start(): Promise<RunningServer>;
}

function parse(args: string[]): ServeCommand | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      protocol: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-threads': { type: 'string' },
      'thread-keep-alive': { type: 'string' },
      threads: { type: 'string' },
      queue: { type: 'string' },
      mode: { type: 'string' },
      workers: { type: 'string' },
      'idle-timeout': { type: 'string' },
      'header-timeout': { type: 'string' },
      socket: { type: 'string' },
      node: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'stats-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1)
    throw new UsageError('expected exactly one model: bio, pool, loop or node-http');
  const model = positionals[0] as Model;
  if (!MODELS.includes(model))
    throw new UsageError(`unknown model '${model}' (expected ${MODELS.join(', ')})`);
  for (const [option, models] of Object.entries(ONLY_FOR)) {
    if (values[option as keyof typeof values] !== undefined && !models.includes(model)) {
      throw new UsageError(`--${option} does not apply to ${model} (only ${models.join(', ')})`);
    }
  }
  const protocol = oneOf('protocol', values.protocol, PROTOCOLS) ?? 'http';
  if (model === 'node-http' && protocol !== 'http')
    throw new UsageError('node-http serves --protocol http only');
  const mode = oneOf('mode', values.mode, ['connection', 'request'] as const);
  const socket = oneOf('socket', values.socket, SOCKET_MODE_CHOICES);
  if (socket !== undefined && model === 'pool' && mode === 'request') {
    throw new UsageError(
      '--socket applies to pool only with --mode connection (request mode keeps sockets on the loop)',
    );
  }
  const host = values.host ?? '127.0.0.1';
  const port = integer('port', values.port, 0, 65535) ?? 0;
  const drainTimeoutMs =
    integer('drain-timeout', values['drain-timeout'], 0, 3_600_000) ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const statsIntervalMs = integer('stats-interval', values['stats-interval'], 10, 3_600_000);
  const idleTimeoutMs = integer('idle-timeout', values['idle-timeout'], 0, 86_400_000);
  const headerTimeoutMs = integer('header-timeout', values['header-timeout'], 0, 86_400_000);
  const base = {
    protocol,
    host,
    port,
    drainTimeoutMs,
    ...(idleTimeoutMs !== undefined && { idleTimeoutMs }),
    ...(headerTimeoutMs !== undefined && { headerTimeoutMs }),
  };
  const maxThreads = integer('max-threads', values['max-threads'], 1, 100_000);
  const threadKeepAliveMs = integer('thread-keep-alive', values['thread-keep-alive'], 0, 86_400_000);
  const threads = integer('threads', values.threads, 1, 10_000);
  const queue = integer('queue', values.queue, 0, 1_000_000);
  const workers = integer('workers', values.workers, 1, 1024);
  const start = (): Promise<RunningServer> => {
    switch (model) {
      case 'bio':
        return startBio({
          ...base,
          ...(maxThreads !== undefined && { maxThreads }),
          ...(threadKeepAliveMs !== undefined && { threadKeepAliveMs }),
          ...(socket !== undefined && { socket }),
        });
      case 'pool':
        return startPool({
          ...base,
          ...(mode !== undefined && { mode }),
          ...(threads !== undefined && { threads }),
          ...(queue !== undefined && { queue }),
          ...(socket !== undefined && { socket: socket as SocketModeChoice }),
        });
      case 'loop':
        return startLoop({
          ...base,
          ...(workers !== undefined && { workers }),
        });
      case 'node-http': {
        const { protocol: _http, ...rest } = base;
        return startNodeHttp(rest);
      }
    }
  };
  return { model, protocol, host, drainTimeoutMs, statsIntervalMs, node: values.node, start };
}

/** Set for a server re-run under `--node`: the pid of the `iolab serve` that started it. */
const PARENT_ENV = 'IOLAB_SERVE_PARENT';
/** How often a re-run server checks that its parent is alive (a SIGKILLed parent cannot pass signals on). */
const PARENT_CHECK_MS = 1000;

/** The arguments without `--node X` / `--node=X`, for the re-run under that binary. */
function withoutNode(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--node') i++;
    else if (!args[i]!.startsWith('--node=')) out.push(args[i]!);
  }
  return out;
}

/**
 * Runs this same command under another Node binary and mirrors it: stdio shared, SIGTERM/SIGINT passed
 * on (the child drains), our exit code is its exit code.
 */
async function reexec(node: string, args: readonly string[]): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, [PARENT_ENV]: String(process.pid) };
  delete env.IOLAB_NODE; // the child runs the server itself
  const child = spawn(node, [process.argv[1]!, 'serve', ...withoutNode(args)], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`iolab serve: cannot run ${node}: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)));
  });
  process.exitCode = code;
}

export async function runServe(args: string[]): Promise<void> {
  let command: ServeCommand | 'help';
  try {
    command = parse(args);
  } catch (err) {
    // parseArgs throws TypeError with ERR_PARSE_ARGS_* codes for unknown options and missing values.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iolab serve: ${message}\nrun 'iolab serve --help' for usage\n`);
    process.exitCode = 2;
    return;
  }
  if (command === 'help') {
    process.stdout.write(FULL_HELP);
    return;
  }

  const parent = process.env[PARENT_ENV];
  if (parent !== undefined) {
    // Linux has no portable "die with my parent" from Node: notice being re-parented and stop.
    setInterval(() => {
      if (String(process.ppid) !== parent) process.kill(process.pid, 'SIGTERM');
    }, PARENT_CHECK_MS).unref();
  }

  const wantedNode = command.node ?? (process.env.IOLAB_NODE || undefined);
  if (wantedNode !== undefined) {
    let node = wantedNode;
    if (wantedNode === 'auto') {
      const found = await findTransferCapableNode();
      if ('reason' in found) {
        process.stderr.write(`iolab serve: no Node that can transfer sockets: ${found.reason}\n`);
        process.exitCode = 1;
        return;
      }
      node = found.path;
    }
    if (node !== process.execPath) {
      await reexec(node, args);
      return;
    }
  }

  let server: RunningServer;
  try {
    server = await command.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iolab serve: cannot start ${command.model}: ${message}\n`);
    process.exitCode = err instanceof IolabServerError && err.code === 'IOLAB_SERVER_BAD_OPTION' ? 2 : 1;
    return;
  }

  const printStats = (): void => {
    process.stderr.write(
      `${JSON.stringify({ model: command.model, time: Date.now(), ...server.stats() })}\n`,
    );
  };
  const statsTimer =
    command.statsIntervalMs === undefined ? undefined : setInterval(printStats, command.statsIntervalMs);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`iolab serve: ${signal} again, exiting without draining\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`iolab serve: ${signal}, draining (up to ${command.drainTimeoutMs} ms)\n`);
    server.close(command.drainTimeoutMs).then(
      () => {
        clearInterval(statsTimer);
        if (statsTimer !== undefined) printStats();
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`iolab serve: error while closing: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const { address, port } = server.address;
  const host = address.includes(':') ? `[${address}]` : address;
  process.stdout.write(`listening on ${host}:${port}\n`);
}

/**
 * `iolab serve <model>`: start one server model, print `listening on HOST:PORT` on stdout once it accepts
 * connections, drain on SIGTERM/SIGINT and exit 0. Usage errors exit 2; a server that cannot start exits 1.
 */
import process from 'node:process';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_THREADS, startBio } from '@iolab/server-bio';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  IolabServerError,
  type RunningServer,
} from '@iolab/server-core';
import { startLoop, startNodeHttp } from '@iolab/server-loop';
import { DEFAULT_QUEUE, DEFAULT_THREADS, startPool } from '@iolab/server-pool';

const MODELS = ['bio', 'pool', 'loop', 'node-http'] as const;
type Model = (typeof MODELS)[number];
const PROTOCOLS = ['http', 'echo-lp', 'echo-line'] as const;
type Protocol = (typeof PROTOCOLS)[number];

export const SERVE_HELP = `usage: iolab serve <bio|pool|loop|node-http> [options]

models:
  bio         a new worker thread per connection running blocking code; the main thread relays bytes
  pool        a piscina pool of worker threads (--mode connection: a connection holds a thread until it
              closes; --mode request: the event loop parses, each request's operation runs in the pool)
  loop        one thread, one event loop, every connection on it (--workers N: N loops via node:cluster)
  node-http   the loop with node:http instead of our HTTP session (reference; --protocol http only)

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
                                       queueLength, requests, errors, refused, headerTimeouts,
                                       idleTimeouts, socketMode (bio, pool), rssBytes (default off)
  -h, --help                           this text

bio:
  --max-threads N      connections beyond N live threads get HTTP 503 (framed: close) (default ${DEFAULT_MAX_THREADS})
pool:
  --mode connection|request            (default connection)
  --threads N          pool threads, piscina min = max = N (default ${DEFAULT_THREADS}: 2 × cores)
  --queue N            tasks waiting for a thread before refusal: connection mode refuses the
                       connection (503/close), request mode answers 503 (default ${DEFAULT_QUEUE})
loop:
  --workers N          run N event loops under node:cluster on one socket (default 1)

stdout carries exactly one line, "listening on HOST:PORT"; logs and stats go to stderr.
`;

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
  threads: ['pool'],
  queue: ['pool'],
  mode: ['pool'],
  workers: ['loop'],
};

interface ServeCommand {
  readonly model: Model;
  readonly protocol: Protocol;
  readonly host: string;
  readonly drainTimeoutMs: number;
  readonly statsIntervalMs: number | undefined;
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
      threads: { type: 'string' },
      queue: { type: 'string' },
      mode: { type: 'string' },
      workers: { type: 'string' },
      'idle-timeout': { type: 'string' },
      'header-timeout': { type: 'string' },
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
  const threads = integer('threads', values.threads, 1, 10_000);
  const queue = integer('queue', values.queue, 0, 1_000_000);
  const workers = integer('workers', values.workers, 1, 1024);
  const start = (): Promise<RunningServer> => {
    switch (model) {
      case 'bio':
        return startBio({ ...base, ...(maxThreads !== undefined && { maxThreads }) });
      case 'pool':
        return startPool({
          ...base,
          ...(mode !== undefined && { mode }),
          ...(threads !== undefined && { threads }),
          ...(queue !== undefined && { queue }),
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
  return { model, protocol, host, drainTimeoutMs, statsIntervalMs, start };
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
    process.stdout.write(SERVE_HELP);
    return;
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

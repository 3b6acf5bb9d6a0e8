/**
 * Starting the processes of one comparison: each a harness-managed child (stopped on return, on error, on the
 * abort signal, and by the harness's registry on exit/SIGINT/SIGTERM), pinned where the plan says, and listed
 * with its command line for the report. Peers that print nothing when ready (HAProxy, nginx) are announced by
 * a shell that then `exec`s them (same pid), and awaited by polling their port.
 */
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, type ManagedProcess, spawnManaged } from '@iolab/harness';
import { recordCommand } from './clients.js';

/** A proxy or backend that has not said it is listening by then is broken, not slow. */
export const START_TIMEOUT_MS = 10_000;
/** Stopping grace before SIGKILL: HAProxy and nginx finish in milliseconds; iolab drains its connections. */
export const STOP_GRACE_MS = 3_000;
/** How often a silent peer's port is probed while it starts. */
const PORT_POLL_MS = 50;

/** HAProxy and nginx print nothing when ready: announce the start, then `exec` (same pid) and poll the port. */
const ANNOUNCE_THEN_EXEC = 'echo "starting $$"; exec "$@"';

/** A free loopback port for peers that cannot listen on port 0 and report it (HAProxy, nginx). */
export function freePort(): Promise<number> {
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

function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
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
    if (await accepts(port)) return;
    await sleep(PORT_POLL_MS);
  }
  throw new Error(`${proc.commandLine} is not accepting on 127.0.0.1:${port} after ${START_TIMEOUT_MS} ms`);
}

/** Like the harness's `findExecutable`, but also where Debian keeps nginx and haproxy when PATH lacks sbin. */
export function findTool(name: string): string | undefined {
  return (
    findExecutable(name) ??
    ['/usr/local/sbin', '/usr/sbin', '/sbin'].map((d) => join(d, name)).find(existsSync)
  );
}

/** Every process one comparison starts; `stopAll()` ends them. */
export class PeerProcesses {
  readonly #procs: ManagedProcess[] = [];
  readonly #signal: AbortSignal;
  readonly #commands: string[];

  constructor(signal: AbortSignal, commands: string[]) {
    this.#signal = signal;
    this.#commands = commands;
  }

  /** Starts a child that prints `listening on HOST:PORT` (or `readyPattern`). */
  async spawn(
    cpu: number | null,
    command: string,
    args: readonly string[],
    readyPattern?: RegExp,
  ): Promise<ManagedProcess> {
    const proc = await spawnManaged({
      command,
      args,
      ...(cpu === null ? {} : { cpu }),
      ...(readyPattern ? { readyPattern } : {}),
      readyTimeoutMs: START_TIMEOUT_MS,
      signal: this.#signal,
    });
    this.#procs.push(proc);
    recordCommand(this.#commands, proc.commandLine);
    return proc;
  }

  /** Starts a peer that cannot announce itself (HAProxy, nginx) and waits until `port` accepts. */
  async spawnOnPort(
    cpu: number | null,
    command: string,
    args: readonly string[],
    port: number,
  ): Promise<ManagedProcess> {
    const proc = await this.spawn(
      cpu,
      '/bin/sh',
      ['-c', ANNOUNCE_THEN_EXEC, 'sh', command, ...args],
      /^starting \d+$/,
    );
    await waitForPort(port, proc, this.#signal);
    return proc;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#procs.map((proc) => proc.stop('SIGTERM', STOP_GRACE_MS)));
  }
}

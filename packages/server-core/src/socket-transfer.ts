/**
 * Can this Node hand an accepted `net.Socket` to a worker thread? nodejs/node#64225 (Node 26.12, Unix)
 * made sockets transferable with `postMessage(value, [socket])`; older Node throws
 * `ERR_INVALID_TRANSFER_OBJECT`. Detected by doing it once on loopback, never by version number: a
 * backport, a build without it, or another platform all answer for themselves.
 */
import { once } from 'node:events';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';
import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import { InvalidServerOptionError } from './errors.js';
import type { SocketMode } from './server-base.js';

/** `--socket`: `auto` picks `owned` where the probe succeeds, else `relay`. */
export type SocketModeChoice = SocketMode | 'auto';
export const SOCKET_MODE_CHOICES: readonly SocketModeChoice[] = ['relay', 'owned', 'auto'];

let probed: Promise<boolean> | undefined;

/** True when a socket accepted here can be transferred to another thread. Probed once per process. */
export function socketTransferSupported(): Promise<boolean> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<boolean> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  try {
    const [accepted] = (await once(server, 'connection')) as [Socket];
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(
        accepted,
        [accepted as unknown as TransferListItem] /* typings predate socket transfer */,
      );
      return true;
    } catch {
      accepted.destroy();
      return false;
    } finally {
      // The transferred handle waits in port2's queue; closing the port frees it.
      port1.close();
      port2.close();
    }
  } finally {
    client.destroy();
    server.close();
  }
}

/** Resolves `auto`; throws `InvalidServerOptionError` when `owned` is asked of a Node that cannot. */
export async function resolveSocketMode(choice: SocketModeChoice | undefined): Promise<SocketMode> {
  const wanted = choice ?? 'auto';
  if (!SOCKET_MODE_CHOICES.includes(wanted)) {
    throw new InvalidServerOptionError('socket', wanted, SOCKET_MODE_CHOICES.join(' | '));
  }
  if (wanted === 'relay') return 'relay';
  const supported = await socketTransferSupported();
  if (supported) return 'owned';
  if (wanted === 'owned') {
    throw new InvalidServerOptionError(
      'socket',
      'owned',
      `'relay' or 'auto': Node ${process.version} cannot transfer a socket to a worker thread (Node 26.12+ on Unix can; see --node)`,
    );
  }
  return 'relay';
}

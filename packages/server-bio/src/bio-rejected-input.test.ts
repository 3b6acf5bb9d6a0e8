/**
 * One malformed request on a real socket: bio (relay and, where this Node can transfer sockets, owned threads) answers it 400 and closes that connection, counts it
 * once in `rejected` (never in `errors`), logs one line with the session's code, and keeps serving.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { SessionRejection } from '@iolab/protocols';
import type { ConnectionFailedError, RunningServer, ServerOptions } from '@iolab/server-core';
import { socketTransferSupported } from '@iolab/server-core';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { startBio } from './bio-server.js';

const servers: RunningServer[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(1000)));
});

/** Logs captured through the server's own log options. */
function logs() {
  const rejections: { id: number | undefined; rejection: SessionRejection; context: string }[] = [];
  const failures: ConnectionFailedError[] = [];
  const options: Pick<ServerOptions, 'logConnectionFailure' | 'logConnectionRejected'> = {
    logConnectionFailure: (error) => failures.push(error),
    logConnectionRejected: (rejection, id, context) => rejections.push({ id, rejection, context }),
  };
  return { rejections, failures, options };
}

/** Writes `text`, returns everything received until the server closes the connection. */
async function exchange(port: number, text: string): Promise<string> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  clients.push(socket);
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    received += d;
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(text);
  await once(socket, 'close');
  return received;
}

const GOOD = 'GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
const MALFORMED = 'GET /plaintext HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n';

async function checkOneRejection(
  start: (log: ReturnType<typeof logs>['options']) => Promise<RunningServer>,
  code: RegExp,
): Promise<void> {
  const log = logs();
  const server = await start(log.options);
  servers.push(server);
  expect(await exchange(server.address.port, MALFORMED)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  await until(() => server.stats().rejected === 1, 'the refusal to be counted');
  expect(await exchange(server.address.port, GOOD)).toMatch(/^HTTP\/1\.1 200 /);
  await until(() => server.stats().connections === 0, 'both connections to close');
  expect(server.stats()).toMatchObject({ rejected: 1, errors: 0, requests: 1 });
  expect(log.failures).toEqual([]);
  expect(log.rejections).toHaveLength(1);
  expect(log.rejections[0]!.id).toBe(1);
  expect(log.rejections[0]!.context).toBe('http');
  expect(log.rejections[0]!.rejection.code).toMatch(code);
  expect(log.rejections[0]!.rejection.status).toBe(400);
}

const owned = await socketTransferSupported();

describe('bio: a malformed request is refused, counted and logged', () => {
  it('relay threads: the thread counts it, the main thread logs it', async () => {
    await checkOneRejection(
      (log) => startBio({ protocol: 'http', socket: 'relay', ...log }),
      /^IOLAB_HTTP_BAD_REQUEST$/,
    );
  });

  it.skipIf(!owned)('owned threads (socket transfer, Node 26)', async () => {
    await checkOneRejection(
      (log) => startBio({ protocol: 'http', socket: 'owned', ...log }),
      /^IOLAB_HTTP_BAD_REQUEST$/,
    );
  });
});

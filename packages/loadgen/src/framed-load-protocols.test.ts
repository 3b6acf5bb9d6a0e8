import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import type { ProtocolName } from '@iolab/protocols';
import { afterEach, describe, expect, it } from 'vitest';
import { runFramedLoad } from './framed-load.js';
import { driveSession } from './test-session-driver.js';

// A minimal event-loop server driving the real @iolab/protocols sessions, so the generator is checked
// against the same protocol code every server model runs.
const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function sessionServer(protocol: ProtocolName): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', driveSession(socket, protocol));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('runFramedLoad against @iolab/protocols sessions', () => {
  for (const protocol of ['echo-lp', 'echo-line'] as const) {
    it(`${protocol}: echo, cpu and sleep all verify with no errors`, async () => {
      const port = await sessionServer(protocol);
      const echo = await runFramedLoad({
        host: '127.0.0.1',
        port,
        protocol,
        op: { kind: 'echo', size: 100 },
        connections: 3,
        depth: 4,
        durationSec: 0.5,
      });
      expect(echo.completed).toBeGreaterThan(50);
      expect(echo.completed).toBe(echo.sent);
      expect(echo.errors + echo.verifyFailures).toBe(0);
      const cpu = await runFramedLoad({
        host: '127.0.0.1',
        port,
        protocol,
        op: { kind: 'cpu', rounds: 10 },
        connections: 1,
        durationSec: 0.3,
      });
      expect(cpu.completed).toBeGreaterThan(5);
      expect(cpu.errors + cpu.verifyFailures).toBe(0);
      const sleep = await runFramedLoad({
        host: '127.0.0.1',
        port,
        protocol,
        op: { kind: 'sleep', ms: 20 },
        connections: 2,
        durationSec: 0.5,
      });
      // Two connections, one 20 ms sleep at a time each: about 50 responses, each taking ≥ 20 ms.
      expect(sleep.completed).toBeGreaterThan(10);
      expect(sleep.completed).toBeLessThan(80);
      expect(sleep.latencyMs.p50).toBeGreaterThanOrEqual(19);
    });
  }
});

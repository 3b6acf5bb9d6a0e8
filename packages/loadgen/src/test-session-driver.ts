/**
 * Tests only: the real @iolab/protocols session driven on one socket — bytes in, answers out, operations
 * run and completed — so generators are checked against the same protocol code every server model runs.
 */
import type { Socket } from 'node:net';
import { createSession, type ProtocolName, runOperation, type SessionOutput } from '@iolab/protocols';

/** Returns what to call with each chunk the socket receives. */
export function driveSession(socket: Socket, protocol: ProtocolName): (chunk: Buffer) => void {
  const session = createSession(protocol);
  const apply = (out: SessionOutput): void => {
    for (const bytes of out.send) socket.write(bytes);
    if (out.close) socket.end();
    for (const work of out.work) {
      void runOperation(work.op).then((result) => {
        if (!socket.destroyed) apply(session.complete(work.id, result));
      });
    }
  };
  return (chunk) => apply(session.receive(chunk));
}

/**
 * One loop of a `workers: N` cluster. Listens on the primary's shared socket, reports stats, and closes
 * when the primary says so. Signals are the primary's business: a Ctrl-C reaches the whole process group,
 * and a worker that exited on its own would drop its in-flight requests.
 */
import process from 'node:process';
import { type ClusterMessage, OPTIONS_ENV, STATS_PUSH_MS } from './loop-cluster.js';
import { type LoopOptions, LoopServer } from './loop-server.js';

const options = JSON.parse(process.env[OPTIONS_ENV] ?? '{}') as LoopOptions;
const server = await new LoopServer(options).start();
const send = (message: ClusterMessage): void => {
  if (process.connected) process.send?.(message);
};

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
send({ type: 'listening', address: server.address });
const timer = setInterval(() => send({ type: 'stats', stats: server.stats() }), STATS_PUSH_MS);

const shutdown = async (deadlineMs?: number): Promise<void> => {
  clearInterval(timer);
  await server.close(deadlineMs);
  send({ type: 'stats', stats: server.stats() });
  process.exit(0);
};
process.on('message', (message: ClusterMessage) => {
  if (message.type === 'close') void shutdown(message.deadlineMs);
});
// The primary is gone (killed): nobody will ask us to close, so drain and go.
process.on('disconnect', () => void shutdown());

import type { RunningServer } from '@iolab/server-core';
import { checkIntegerOption } from '@iolab/server-core';
import { startLoopCluster } from './loop-cluster.js';
import { type LoopOptions, LoopServer } from './loop-server.js';

/** Starts the event-loop server, or `workers` of them under node:cluster; resolves once accepting. */
export function startLoop(options: LoopOptions): Promise<RunningServer> {
  const workers = checkIntegerOption('workers', options.workers ?? 1, 1, 1024);
  return workers === 1 ? new LoopServer(options).start() : startLoopCluster(options, workers);
}

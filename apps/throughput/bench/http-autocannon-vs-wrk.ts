/**
 * autocannon (in-process JS) against wrk (C) on the same server, to see where autocannon saturates:
 *   npx tsx apps/throughput/bench/http-autocannon-vs-wrk.ts [model]   (model: loop | bio | pool, default loop;
 *   after `npm run build`)
 */
import { createRequire } from 'node:module';
import { planCores, spawnManaged } from '@iolab/harness';
import { runHttpLoad, runWrk, wrkAvailable } from '@iolab/loadgen';

const model = process.argv[2] ?? 'loop';
// The CLI is a declared dependency of this app: resolved like any package file.
const cli = createRequire(import.meta.url).resolve('@iolab/cli/bin/iolab.js');
const cores = planCores();
const server = await spawnManaged({
  command: process.execPath,
  args: [cli, 'serve', model, '--protocol', 'http', '--host', '127.0.0.1', '--port', '0'],
  ...(cores.serverCpu === undefined ? {} : { cpu: cores.serverCpu }),
});
console.log(`server: ${server.commandLine} (pinned: ${server.pinned})`);
const url = `http://${server.host}:${server.port}/plaintext`;
try {
  const rows = [
    '| tool | conns | pipelining | req/s | p50 ms | p99 ms | errors | non2xx | generator CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const connections of [1, 10, 100]) {
    for (const pipelining of [1, 10]) {
      const a = await runHttpLoad({ url, connections, pipelining, durationSec: 3, warmupSec: 1 });
      rows.push(
        `| autocannon | ${connections} | ${pipelining} | ${Math.round(a.requestsPerSec)} | ${a.latencyMs.p50} | ${a.latencyMs.p99} | ${a.errors} | ${a.non2xx} | ${a.loadgenCpu?.cpuPercent.toFixed(0)} %${a.loadgenCpu?.saturated ? ' (saturated)' : ''} |`,
      );
      if (wrkAvailable()) {
        const w = await runWrk({
          url,
          connections,
          pipelining,
          durationSec: 3,
          warmupSec: 1,
          ...(cores.loadgenCpu === undefined ? {} : { cpu: cores.loadgenCpu }),
        });
        rows.push(
          `| wrk | ${connections} | ${pipelining} | ${Math.round(w.requestsPerSec)} | ${w.latencyMs.p50.toFixed(2)} | ${w.latencyMs.p99.toFixed(2)} | ${w.errors} | ${w.non2xx} | (separate process) |`,
        );
      }
    }
  }
  console.log(rows.join('\n'));
} finally {
  await server.stop();
}

/**
 * Drives `iolab serve loop --protocol echo-lp` with the framed generator, closed and open loop, and prints
 * a table. A smoke benchmark of the generator itself (not the report's matrix):
 *   npx tsx apps/throughput/bench/framed-vs-loop.ts   (after `npm run build`)
 */
import { createRequire } from 'node:module';
import { planCores, spawnManaged } from '@iolab/harness';
import { runFramedLoad } from '@iolab/loadgen';

// The CLI is a declared dependency of this app: resolved like any package file.
const cli = createRequire(import.meta.url).resolve('@iolab/cli/bin/iolab.js');
const SERVER_CPU = planCores().serverCpu;
const server = await spawnManaged({
  command: process.execPath,
  args: [cli, 'serve', 'loop', '--protocol', 'echo-lp', '--host', '127.0.0.1', '--port', '0'],
  ...(SERVER_CPU === undefined ? {} : { cpu: SERVER_CPU }),
});
console.log(`server: ${server.commandLine} (pinned: ${server.pinned})`);
try {
  const rows: string[] = [
    '| mode | conns | depth / rate | req/s | p50 ms | p99 ms | p99.9 ms | errors | verify | loadgen CPU | saturated |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const runs = [
    { connections: 1, depth: 1 },
    { connections: 10, depth: 1 },
    { connections: 100, depth: 1 },
    { connections: 10, depth: 16 },
    { connections: 10, rate: 2_000 },
    { connections: 10, rate: 10_000 },
  ];
  for (const run of runs) {
    const r = await runFramedLoad({
      host: server.host,
      port: server.port,
      protocol: 'echo-lp',
      op: { kind: 'echo', size: 64 },
      durationSec: 3,
      warmupSec: 1,
      ...run,
    });
    rows.push(
      `| ${r.mode} | ${r.connections} | ${r.mode === 'open' ? `${r.targetRate}/s` : r.depth} | ${Math.round(r.requestsPerSec)} | ${r.latencyMs.p50.toFixed(3)} | ${r.latencyMs.p99.toFixed(3)} | ${r.latencyMs.p999.toFixed(3)} | ${r.errors} | ${r.verifyFailures} | ${r.loadgenCpu.cpuPercent.toFixed(0)} % | ${r.saturated ? r.saturationReasons.join('; ') : 'no'} |`,
    );
  }
  console.log(rows.join('\n'));
} finally {
  await server.stop();
}

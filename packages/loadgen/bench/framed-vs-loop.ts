/**
 * Drives `iolab serve loop --protocol echo-lp` with the framed generator, closed and open loop, and prints
 * a table. A smoke benchmark of the generator itself (not the report's matrix):
 *   npx tsx bench/framed-vs-loop.ts
 */
import { fileURLToPath } from 'node:url';
import { runFramedLoad, spawnManaged } from '../src/index.js';

const cli = fileURLToPath(new URL('../../../apps/cli/bin/iolab.js', import.meta.url));
const server = await spawnManaged({
  command: process.execPath,
  args: [cli, 'serve', 'loop', '--protocol', 'echo-lp', '--host', '127.0.0.1', '--port', '0'],
  cpu: 1,
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

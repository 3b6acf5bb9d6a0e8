/**
 * Standalone run of the balancer benchmark: `iolab balance` vs direct, HAProxy, nginx stream and a naive
 * proxy, printed as a Markdown table.
 *
 *   npx tsx packages/balancer/bench/compare.ts [--quick] [--profile] [--connections N] [--targets a,b,...]
 *
 * Build first (`npx turbo run build --filter=@iolab/cli...`): it runs the built `iolab` CLI.
 * The experiment itself lives in apps/throughput (the report orchestrator runs it too); this script only
 * drives it, so the two can never measure different things.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBalancerExperiment, type TargetName } from '../../../apps/throughput/src/balancer-experiment.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    profile: { type: 'boolean' },
    connections: { type: 'string' },
    targets: { type: 'string' },
    backend: { type: 'string' },
  },
});

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping every process started…\n`);
    controller.abort(new Error(sig));
  });
}

const cliPath = fileURLToPath(new URL('../../../apps/cli/bin/iolab.js', import.meta.url));
const section = await runBalancerExperiment(
  {
    quick: values.quick ?? false,
    signal: controller.signal,
    cliPath,
    progress: (e) => process.stderr.write(`[${e.done}/${e.total}] ${e.scenario}\n`),
  },
  {
    profile: values.profile ?? false,
    log: (line) => process.stderr.write(`  ${line}\n`),
    ...(values.backend === 'node' || values.backend === 'nginx' || values.backend === 'iolab'
      ? { backend: values.backend }
      : {}),
    ...(values.connections ? { connections: Number(values.connections) } : {}),
    ...(values.targets ? { targets: values.targets.split(',') as TargetName[] } : {}),
  },
).catch((err: unknown) => {
  if (controller.signal.aborted) {
    process.stderr.write('aborted; every process it started was stopped\n');
    process.exit(130);
  }
  throw err;
});

process.stdout.write(`## ${section.title}\n\n${section.markdown}\n\nCommands:\n\n`);
for (const c of section.commands) process.stdout.write(`    ${c}\n`);

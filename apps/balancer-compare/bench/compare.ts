/**
 * Standalone run of the balancer benchmark: `iolab balance` vs direct, HAProxy, nginx stream and a naive
 * proxy, printed as a Markdown table.
 *
 *   npm run compare -w @iolab/balancer-compare -- [--quick] [--profile] [--connections N] [--targets a,b,...]
 *
 * Build first (`npx turbo run build --filter=@iolab/balancer-compare...`): it runs the built `iolab` CLI.
 * The report orchestrator runs the same experiment; this script only drives it, so the two can never measure
 * different things.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type { TargetName } from '../src/results.js';
import { runBalancerExperiment } from '../src/run.js';

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

// The CLI is a declared dependency of this app; resolve its script the way Node resolves any package file.
const cliPath = createRequire(import.meta.url).resolve('@iolab/cli/bin/iolab.js');
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

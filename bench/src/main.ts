/**
 * `npm run bench` / `npm run bench:quick`: runs every experiment and writes reports/REPORT.md, index.html and
 * results.json. Progress goes to stderr. Ctrl-C / SIGTERM stop every child process (a second signal forces
 * the exit); the exit code is 0 when everything completed, 1 when an experiment failed, 130 when interrupted.
 *
 *   node --import tsx src/main.ts [--quick] [--only throughput,sticky-packets,balancer] [--reports-dir DIR] [--cli PATH]
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBalancerExperiment } from '@iolab/balancer-compare';
import { killAllManaged } from '@iolab/harness';
import { kernelBalancingExperiment, kernelBalancingUnavailable } from '@iolab/kernel-balancing';
import { runStickyPackets } from '@iolab/sticky-packets';
import { runThroughput } from '@iolab/throughput';
import { findStrays, killStrays, RUN_MARKER_ENV } from './process-sweep.js';
import { ProgressReporter } from './progress-reporter.js';
import { type ExperimentEntry, runBench } from './run-bench.js';

const EXPERIMENTS: readonly ExperimentEntry[] = [
  { id: 'throughput', title: 'Throughput: thread per connection vs pool vs event loop', run: runThroughput },
  { id: 'sticky-packets', title: 'Sticky packets', run: runStickyPackets },
  {
    id: 'balancer',
    title: 'Balancer: direct vs iolab balance vs HAProxy vs nginx',
    run: (o) => runBalancerExperiment(o),
  },
  {
    id: 'kernel-balancing',
    title: 'Kernel vs user-space balancing (LVS-NAT/DR with nftables, keepalived failover)',
    run: kernelBalancingExperiment,
    skip: () => {
      const reason = kernelBalancingUnavailable();
      // Recorded as status "skipped" with this reason: "skipped: needs root" in the report.
      return reason?.startsWith('needs root') ? 'needs root' : reason;
    },
  },
];

/** How the package scripts start this file: one process (tsx as a loader, not its signal-relaying CLI). */
const COMMAND = 'node --import tsx src/main.ts';
const USAGE = `usage: ${COMMAND} [--quick] [--only id,id] [--reports-dir DIR] [--cli PATH/TO/iolab.js]`;

interface Args {
  readonly quick: boolean;
  readonly only: readonly string[] | undefined;
  readonly reportsDir: string | undefined;
  readonly cli: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let only: string[] | undefined;
  let reportsDir: string | undefined;
  let cli: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--reports-dir') reportsDir = argv[++i];
    else if (arg === '--cli') cli = argv[++i];
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument '${arg}'\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return { quick, only, reportsDir, cli };
}

const args = parseArgs(process.argv.slice(2));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const reportsDir = resolve(args.reportsDir ?? `${repoRoot}reports`);
// Every process this run starts inherits the marker, so the sweep can find them even once re-parented.
const marker = process.env[RUN_MARKER_ENV] ?? randomUUID();
process.env[RUN_MARKER_ENV] = marker;

const reporter = new ProgressReporter();
// Helpers already running (tsx's esbuild service) are ours but not the experiments': never swept.
const baseline = findStrays(process.pid).map((p) => p.pid);
const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals++;
  if (signals === 1) {
    reporter.log(`${signal}: stopping every experiment and process (again to force)`);
    controller.abort(new Error(`interrupted by ${signal}`));
    return;
  }
  killAllManaged();
  killStrays(findStrays(process.pid, marker, baseline));
  reporter.log(`${signal} again: killed every child, exiting`);
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const unknown = args.only?.filter((id) => !EXPERIMENTS.some((e) => e.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown experiment(s) ${unknown.join(', ')}; known: ${EXPERIMENTS.map((e) => e.id).join(', ')}\n`,
  );
  process.exit(2);
}
const experiments = args.only ? EXPERIMENTS.filter((e) => args.only?.includes(e.id)) : EXPERIMENTS;

reporter.log(
  `${args.quick ? 'quick' : 'full'} run: ${experiments.map((e) => e.id).join(', ')} → ${reportsDir} (marker ${RUN_MARKER_ENV}=${marker})`,
);
let exitCode = 0;
try {
  const outcome = await runBench({
    quick: args.quick,
    repoRoot,
    reportsDir,
    experiments,
    signal: controller.signal,
    reporter,
    ...(args.cli ? { cliPath: resolve(args.cli) } : {}),
    commandLine:
      `${process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event} → ` : ''}${COMMAND} ${process.argv.slice(2).join(' ')}`.trim(),
  });
  reporter.log(
    `wrote ${outcome.files.filter((f) => !f.endsWith('.svg')).join(', ')} (+${outcome.files.filter((f) => f.endsWith('.svg')).length} charts)`,
  );
  for (const failed of outcome.failed)
    reporter.log(`✘ ${failed.title}: ${failed.status}: ${failed.error ?? ''}`);
  exitCode = outcome.aborted ? 130 : outcome.failed.length > 0 ? 1 : 0;
} catch (error) {
  reporter.log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  killAllManaged();
  const strays = killStrays(findStrays(process.pid, marker, baseline));
  for (const stray of strays)
    reporter.log(`warning: killed stray process ${stray.pid}: ${stray.cmdline.slice(0, 200)}`);
}
process.exit(exitCode);

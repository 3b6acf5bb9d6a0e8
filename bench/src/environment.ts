/**
 * What the numbers were measured on: CPU, cores, kernel, Node and package versions, open-file limits,
 * CPU pinning, peers' versions and the git commit. Every probe degrades to "unknown" rather than failing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentRecord } from './results-schema.js';

/** Third-party packages whose version changes what the report measures. */
const MEASURED_DEPENDENCIES = [
  'autocannon',
  'piscina',
  'hdr-histogram-js',
  'http-parser-js',
  'undici',
  'vega',
  'vega-lite',
  'tinybench',
];

function run(command: string, args: readonly string[], cwd?: string): string | undefined {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      timeout: 5_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    // haproxy -v and nginx -v print to stderr; keep that when the tool exists.
    const stderr = (error as { stderr?: string }).stderr;
    return typeof stderr === 'string' && stderr.trim() ? stderr.trim() : undefined;
  }
}

function versionOf(packageJsonPath: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function packageVersions(repoRoot: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const group of ['packages', 'apps', '.']) {
    const dirs = group === '.' ? ['bench'] : safeReaddir(join(repoRoot, group));
    for (const dir of dirs) {
      const path =
        group === '.' ? join(repoRoot, dir, 'package.json') : join(repoRoot, group, dir, 'package.json');
      try {
        const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
        if (pkg.name && pkg.version) versions[pkg.name] = pkg.version;
      } catch {
        // Not a package.
      }
    }
  }
  for (const name of MEASURED_DEPENDENCIES) {
    const version = versionOf(join(repoRoot, 'node_modules', name, 'package.json'));
    if (version) versions[name] = version;
  }
  return versions;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The open-files limit of this process (children inherit it unless they raise the soft limit). */
export function openFilesLimit(): { soft: string; hard: string } {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (match?.[1] && match[2]) return { soft: match[1], hard: match[2] };
  } catch {
    // Not Linux: ask a shell.
  }
  return {
    soft: run('sh', ['-c', 'ulimit -Sn']) ?? 'unknown',
    hard: run('sh', ['-c', 'ulimit -Hn']) ?? 'unknown',
  };
}

/** First line a tool prints about its version (some print to stderr, some exit non-zero); null when absent. */
function toolVersion(name: string, args: readonly string[]): string | null {
  const out = spawnSync(name, args, { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (out.error) return null;
  const text = `${out.stdout ?? ''}\n${out.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || name;
}

/** Collects the environment block of the report. */
export function collectEnvironment(repoRoot: string): EnvironmentRecord {
  const cpuList = cpus();
  const commit = run('git', ['rev-parse', 'HEAD'], repoRoot) ?? null;
  const status = commit ? run('git', ['status', '--porcelain', '--untracked-files=no'], repoRoot) : undefined;
  const cores = Math.max(1, availableParallelism());
  const taskset = run('sh', ['-c', 'command -v taskset']);
  return {
    cpuModel: cpuList[0]?.model?.trim() || 'unknown',
    cores,
    memoryBytes: totalmem(),
    kernel: release(),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    packages: packageVersions(repoRoot),
    tools: {
      taskset: taskset ?? null,
      wrk: toolVersion('wrk', ['-v']),
      haproxy: toolVersion('haproxy', ['-v']),
      nginx: toolVersion('nginx', ['-v']),
    },
    ulimitNoFile: openFilesLimit(),
    pinning:
      taskset && cores >= 2
        ? `taskset available; servers and load generators are pinned to separate cores where each experiment says so (${cores} cores)`
        : `no pinning (${taskset ? `only ${cores} core` : 'taskset not found'}): server and load generator share cores`,
    gitCommit: commit,
    gitDirty: status === undefined ? null : status.length > 0,
    hostname: hostname(),
    timestamp: new Date().toISOString(),
  };
}

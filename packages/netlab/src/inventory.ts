/**
 * What lab runs exist on this machine (`iolab lab status`) and removing them (`iolab lab down`): lab
 * namespaces are found by their `iolab-<id>-` prefix and matched to the state file of the run that made them.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findTool, tryRun } from './system-command.js';
import { LAB_NAMESPACE_PREFIX, type LabStateFile, labStateDir, removeNamespace } from './topology.js';

export interface LabRun {
  readonly id: string;
  readonly namespaces: readonly string[];
  /** The process that created the run, from its state file (undefined when the file is gone). */
  readonly ownerPid: number | undefined;
  /** false: its owner died without cleaning up (a leftover). */
  readonly ownerAlive: boolean;
  readonly createdAt: string | undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every lab namespace on the machine, by run id. */
export function listLabNamespaces(): string[] {
  if (!findTool('ip')) return [];
  const out = tryRun('ip', ['netns', 'list']) ?? '';
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(LAB_NAMESPACE_PREFIX));
}

export function listLabRuns(): LabRun[] {
  const byId = new Map<string, string[]>();
  for (const ns of listLabNamespaces()) {
    const id = ns.slice(LAB_NAMESPACE_PREFIX.length).split('-')[0] ?? '';
    byId.set(id, [...(byId.get(id) ?? []), ns]);
  }
  const states = new Map<string, LabStateFile>();
  try {
    for (const f of readdirSync(labStateDir())) {
      if (!f.endsWith('.json')) continue;
      try {
        const s = JSON.parse(readFileSync(join(labStateDir(), f), 'utf8')) as LabStateFile;
        states.set(s.id, s);
        if (!byId.has(s.id)) byId.set(s.id, []);
      } catch {
        // A half-written state file: ignore it; the namespaces still show.
      }
    }
  } catch {
    // No state directory yet.
  }
  return [...byId.entries()].map(([id, namespaces]) => {
    const s = states.get(id);
    return {
      id,
      namespaces,
      ownerPid: s?.pid,
      ownerAlive: s ? alive(s.pid) : false,
      createdAt: s?.createdAt,
    };
  });
}

/** Removes a run's namespaces (and whatever runs inside them) and its state file. */
export function removeLabRun(run: LabRun): void {
  for (const ns of run.namespaces) removeNamespace(ns);
  rmSync(join(labStateDir(), `${run.id}.json`), { force: true });
}

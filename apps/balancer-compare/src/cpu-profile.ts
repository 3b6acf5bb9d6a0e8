/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) into self time per function, so the report can say
 * where `iolab balance` spent its CPU under the same load as the comparison.
 */
import { readFileSync } from 'node:fs';

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly top: readonly { readonly name: string; readonly selfPercent: number }[];
}

/** Summarises a `.cpuprofile` by self time per function (name + file:line), top entries first. */
export function summariseCpuProfile(file: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    // Idle time says the process waited, not where it worked; percentages are of busy time.
    if (!node || node.callFrame.functionName === '(idle)') return;
    const frame = node.callFrame;
    const where = frame.url
      ? ` ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|apps)\//, '$1/')}:${frame.lineNumber + 1}`
      : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    self.set(name, (self.get(name) ?? 0) + delta);
    total += delta;
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, us]) => ({ name, selfPercent: (us / Math.max(total, 1)) * 100 }));
  return { file, totalMs: total / 1000, top };
}

/**
 * `iolab lab`: refuses without privileges in one line; as root, `up --detach` → `status` → `down ID` leaves
 * nothing behind. The root part is skipped with a message where the lab cannot run.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findTool, labUnavailableReason, listLabNamespaces } from '@iolab/netlab';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/iolab.js', import.meta.url));
const skipReason = labUnavailableReason(['ip', 'nft', 'sysctl']);
if (skipReason) console.warn(`lab-command (root part): SKIPPED — ${skipReason}`);

function iolab(args: string[], dropCaps = false): { status: number | null; stdout: string; stderr: string } {
  // As root, drop every capability so the refusal path runs for real.
  const asRoot = process.getuid?.() === 0;
  const argv =
    dropCaps && asRoot
      ? ['setpriv', '--inh-caps=-all', '--bounding-set=-all', process.execPath, bin, ...args]
      : [process.execPath, bin, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iolab lab', () => {
  // As root the refusal needs `setpriv` (util-linux) to drop the capabilities.
  const cannotDrop = process.getuid?.() === 0 && !findTool('setpriv');
  it.skipIf(cannotDrop)('without CAP_NET_ADMIN/CAP_SYS_ADMIN refuses in one line, creating nothing', () => {
    const before = listLabNamespaces();
    const r = iolab(['lab', 'up'], true);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^iolab lab: needs root/);
    expect(listLabNamespaces()).toEqual(before);
  });

  it('an unknown subcommand is a usage error', () => {
    const r = iolab(['lab', 'sideways']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown subcommand 'sideways'");
  });

  it.skipIf(skipReason !== undefined)(
    'up --detach, status, down ID: the run appears, then nothing is left',
    { timeout: 90_000 },
    () => {
      const up = iolab(['lab', 'up', '--detach', '--directors', '1', '--real-servers', '1']);
      expect(up.status).toBe(0);
      const id = /lab (\w+) up/.exec(up.stdout)?.[1];
      expect(id).toBeDefined();
      try {
        expect(listLabNamespaces().filter((ns) => ns.startsWith(`iolab-${id}-`))).toHaveLength(4);
        expect(iolab(['lab', 'status']).stdout).toMatch(
          new RegExp(`^${id} {2}owner \\d+ gone {2}4 namespaces`, 'm'),
        );
      } finally {
        const down = iolab(['lab', 'down', id!]);
        expect(down.stdout).toContain(`removed lab ${id} (4 namespaces)`);
      }
      expect(listLabNamespaces().filter((ns) => ns.startsWith(`iolab-${id}-`))).toEqual([]);
    },
  );
});

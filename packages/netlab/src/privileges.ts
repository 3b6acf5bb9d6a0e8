/**
 * Can this process build the lab? Network namespaces, veth pairs and nft tables need CAP_NET_ADMIN (and
 * CAP_SYS_ADMIN for `ip netns add`, which mounts the namespace file). We check the effective capability set
 * rather than the uid, so a container's root without them is refused up front, in one line, instead of
 * failing halfway through building the topology.
 */
import { readFileSync } from 'node:fs';
import { LabNeedsRootError } from './errors.js';
import { findTool } from './system-command.js';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

function effectiveCapabilities(): bigint | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m?.[1] ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Why the lab cannot run here (one line), or undefined when it can. Tools listed are also required. */
export function labUnavailableReason(tools: readonly string[] = ['ip', 'nft']): string | undefined {
  if (process.platform !== 'linux') return 'needs root: the network lab uses Linux network namespaces';
  const caps = effectiveCapabilities();
  if (caps === undefined || (caps & (1n << CAP_NET_ADMIN)) === 0n || (caps & (1n << CAP_SYS_ADMIN)) === 0n) {
    return 'needs root: the network lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)';
  }
  for (const tool of tools) {
    if (!findTool(tool)) return `needs \`${tool}\`, which is not installed`;
  }
  return undefined;
}

/** Throws LabNeedsRootError (one clear line) when the lab cannot run here. */
export function assertLabAvailable(tools?: readonly string[]): void {
  const reason = labUnavailableReason(tools);
  if (reason) throw new LabNeedsRootError(`iolab lab: ${reason}`);
}

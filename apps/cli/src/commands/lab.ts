/**
 * `iolab lab up|down|status`: the network-namespace lab the kernel-balancing experiment runs in, by hand.
 * `up` builds it and keeps it until Ctrl-C (or leaves it with --detach); `down` removes runs whose owner
 * is gone (or every lab run with --all); `status` lists them. Without root it refuses in one line.
 */
import { parseArgs } from 'node:util';
import {
  createLab,
  LAB_ADDRESSES,
  type Lab,
  type LabRun,
  labUnavailableReason,
  listLabRuns,
  NetlabError,
  removeLabRun,
} from '@iolab/netlab';

const HELP = `usage: iolab lab up [--real-servers N] [--directors 1|2] [--detach]
       iolab lab down [--all] [ID ...]
       iolab lab status [--json]

A lab of network namespaces (needs root): one client, directors and real servers on two bridges, with
RFC 5737 addresses that exist only inside the namespaces.

  front ${LAB_ADDRESSES.frontSubnet}: client ${LAB_ADDRESSES.client}, directors .2/.3, VIP ${LAB_ADDRESSES.vip}
  back  ${LAB_ADDRESSES.backSubnet}:  directors .2/.3, real servers .11…, NAT gateway ${LAB_ADDRESSES.gateway}

up        build it; keep it until Ctrl-C/SIGTERM, then remove everything (--detach: leave it up)
down      remove lab runs whose creating process is gone; --all: every lab run; IDs: those runs
status    list lab runs (id, owner pid, alive, namespaces)
`;

function describeLab(lab: Lab): string {
  const lines = [`lab ${lab.id} up (namespaces ${lab.prefix}-*)`];
  lines.push(`  client      ${lab.client.ns}  ${lab.client.address}`);
  for (const d of lab.directors) {
    lines.push(`  ${d.name.padEnd(11)} ${d.ns}  front ${d.front.address}  back ${d.back.address}`);
  }
  for (const r of lab.realServers) lines.push(`  ${r.name.padEnd(11)} ${r.ns}  ${r.address}`);
  lines.push(
    `  VIP ${lab.vip} (not assigned: run keepalived or \`ip -n ${lab.directors[0]?.ns} addr add ${lab.vip}/24 dev front\`)`,
  );
  lines.push(`try: ip netns exec ${lab.client.ns} bash`);
  return `${lines.join('\n')}\n`;
}

function describeRun(run: LabRun): string {
  const owner =
    run.ownerPid === undefined
      ? 'owner unknown'
      : `owner ${run.ownerPid} ${run.ownerAlive ? 'running' : 'gone'}`;
  return `${run.id}  ${owner}  ${run.namespaces.length} namespaces${run.createdAt ? `  since ${run.createdAt}` : ''}\n`;
}

export async function runLab(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(HELP);
    return;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: {
        'real-servers': { type: 'string' },
        directors: { type: 'string' },
        detach: { type: 'boolean' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      allowPositionals: sub === 'down',
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`iolab lab: ${(error as Error).message}\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (sub !== 'up' && sub !== 'down' && sub !== 'status') {
    process.stderr.write(`iolab lab: unknown subcommand '${sub}'\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (sub === 'status') {
    const runs = listLabRuns();
    if (values.json) process.stdout.write(`${JSON.stringify(runs)}\n`);
    else process.stdout.write(runs.length === 0 ? 'no lab runs\n' : runs.map(describeRun).join(''));
    return;
  }
  const reason = labUnavailableReason(['ip', 'nft', 'sysctl']);
  if (reason) {
    process.stderr.write(`iolab lab: ${reason}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    if (sub === 'down') {
      const runs = listLabRuns().filter((r) =>
        positionals.length > 0 ? positionals.includes(r.id) : values.all ? true : !r.ownerAlive,
      );
      for (const run of runs) {
        removeLabRun(run);
        process.stdout.write(`removed lab ${run.id} (${run.namespaces.length} namespaces)\n`);
      }
      if (runs.length === 0) process.stdout.write('nothing to remove\n');
      return;
    }
    const lab = createLab({
      realServers: values['real-servers'] === undefined ? 3 : Number(values['real-servers']),
      directors: values.directors === undefined ? 2 : Number(values.directors),
    });
    process.stdout.write(describeLab(lab));
    if (values.detach) {
      lab.detach();
      process.stdout.write(`detached: remove it with \`iolab lab down ${lab.id}\`\n`);
      return;
    }
    process.stdout.write('Ctrl-C removes it\n');
    // Signal listeners do not keep Node's event loop alive; this timer does, until the signal.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        clearInterval(keepAlive);
        lab.destroy();
        process.stdout.write(`lab ${lab.id} removed\n`);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } catch (error) {
    process.stderr.write(`iolab lab: ${error instanceof NetlabError ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

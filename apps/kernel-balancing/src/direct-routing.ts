/**
 * LVS-DR on netfilter, if this kernel allows it: the director's netdev ingress hook on its front interface
 * rewrites only the Ethernet addresses of packets for VIP:port (destination = a real server's MAC, chosen by
 * a hash of the client's address and port so a connection keeps its server) and forwards them out of the back
 * interface (`fwd to`). IP addresses are untouched: real servers hold the VIP on loopback, with
 * arp_ignore=1/arp_announce=2 so they never answer ARP for it, and reply straight to the client through the
 * router — the director never sees a reply. Counters prove it: the director's ingress rule counts requests,
 * a counter on the director's return path stays at zero, the router's forward counter carries the replies.
 *
 * TUN mode is not attempted: it encapsulates in IPIP, which this kernel class does not have.
 */
import type { Lab } from '@iolab/netlab';
import { type LoadRun, runWrkInClient, type WhoAnswer, whoAnswers } from './lab-processes.js';
import { REAL_SERVER_PORT } from './targets.js';

export interface DirectRoutingResult {
  readonly works: boolean;
  /** Why not, word for word from nft or from the probe, when it does not. */
  readonly reason: string | undefined;
  readonly answers: readonly WhoAnswer[];
  /** Packets for VIP:port the director rewrote and forwarded. */
  readonly directorInbound: number;
  /** Packets from VIP:port (replies) that crossed the director: 0 when DR works. */
  readonly directorReturn: number;
  /** Replies the router forwarded from the real servers to the client. */
  readonly routerReplies: number;
  readonly load: LoadRun | undefined;
  readonly ruleset: string;
}

const TABLE = 'iolab_dr';

function counter(text: string, comment: string): number {
  const m = new RegExp(`counter packets (\\d+) bytes \\d+[^\\n]*comment "${comment}"`).exec(text);
  return m ? Number(m[1]) : 0;
}

export async function tryDirectRouting(
  lab: Lab,
  o: { connections: number; durationSec: number; signal: AbortSignal },
): Promise<DirectRoutingResult> {
  const d = lab.directors[0]!;
  const port = REAL_SERVER_PORT;
  const macs = lab.realServers.map((r, i) => `${i} : ${r.mac}`).join(', ');
  const ruleset = [
    `table netdev ${TABLE} {`,
    '  chain front_in {',
    `    type filter hook ingress device "front" priority 0; policy accept;`,
    `    ip daddr ${lab.vip} tcp dport ${port} counter ether saddr set ${d.back.mac} ether daddr set jhash ip saddr . tcp sport mod ${lab.realServers.length} map { ${macs} } fwd to "back" comment "dr-inbound"`,
    '  }',
    '  chain back_in {',
    `    type filter hook ingress device "back" priority 0; policy accept;`,
    `    ip saddr ${lab.vip} tcp sport ${port} counter comment "dr-return"`,
    '  }',
    '}',
    '',
  ].join('\n');
  const routerRules = `table ip ${TABLE} {\n  chain forward_replies {\n    type filter hook forward priority 0; policy accept;\n    ip saddr ${lab.vip} tcp sport ${port} counter comment "dr-replies"\n  }\n}\n`;
  const empty = (reason: string): DirectRoutingResult => ({
    works: false,
    reason,
    answers: [],
    directorInbound: 0,
    directorReturn: 0,
    routerReplies: 0,
    load: undefined,
    ruleset,
  });
  lab.setAddress(d, 'front', `${lab.vip}/24`, true);
  lab.routeRealServersVia('router');
  try {
    try {
      lab.exec(d.ns, 'nft', ['-f', '-'], ruleset);
      lab.exec(lab.router.ns, 'nft', ['-f', '-'], routerRules);
    } catch (error) {
      return empty(`nft refused the DR ruleset: ${(error as Error).message}`);
    }
    const url = `http://${lab.vip}:${port}/`;
    const who = await whoAnswers(lab, url, 6, o.signal);
    if (who.answers.length === 0) return empty(`no answer from ${url} with the DR ruleset in place`);
    const load = await runWrkInClient(lab, url, {
      connections: o.connections,
      durationSec: o.durationSec,
      warmupSec: 0,
      proc: undefined,
      signal: o.signal,
    });
    const dirText = lab.exec(d.ns, 'nft', ['list', 'table', 'netdev', TABLE]);
    const routerText = lab.exec(lab.router.ns, 'nft', ['list', 'table', 'ip', TABLE]);
    const directorReturn = counter(dirText, 'dr-return');
    const routerReplies = counter(routerText, 'dr-replies');
    return {
      works: directorReturn === 0 && routerReplies > 0,
      reason: directorReturn === 0 ? undefined : `${directorReturn} reply packets crossed the director`,
      answers: who.answers,
      directorInbound: counter(dirText, 'dr-inbound'),
      directorReturn,
      routerReplies,
      load,
      ruleset,
    };
  } finally {
    lab.exec(d.ns, 'sh', ['-c', `nft delete table netdev ${TABLE} 2>/dev/null || true`]);
    lab.exec(lab.router.ns, 'sh', ['-c', `nft delete table ip ${TABLE} 2>/dev/null || true`]);
    lab.routeRealServersVia('gateway');
  }
}

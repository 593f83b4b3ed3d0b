/**
 * berth's own iptables rules, as data (pure) and one executor. Per daemon,
 * two chains named after its default bridge, so several daemons (tests,
 * benchmarks) never touch each other's rules and never the host's:
 *
 *   filter BERTH-FWD-<tag>   jumped to first from FORWARD
 *     for every bridge:   -o br  RELATED,ESTABLISHED → ACCEPT
 *                         -o br  ctstate DNAT (published ports) → ACCEPT (not --internal)
 *                         -i br -o br → ACCEPT, -o br → DROP (isolation between networks)
 *     then:               -i br → ACCEPT (to the outside; DROP if --internal)
 *   nat BERTH-NAT-<tag>      jumped to from POSTROUTING
 *                         -s subnet ! -o br → MASQUERADE (not --internal)
 *
 * Traffic that involves none of our bridges falls through both chains
 * untouched. The whole chain content is replaced in one iptables-restore
 * (--noflush: other chains stay as they are), so a restart leaves no stale
 * rule. Published ports are the CNI portmap plugin's (its CNI-* chains).
 */
import { ExecError, run } from '../../lib/exec.js';

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface FirewallChains {
  filter: string;
  nat: string;
}

export function chainNames(tag: string): FirewallChains {
  return { filter: `BERTH-FWD-${tag}`, nat: `BERTH-NAT-${tag}` };
}

/** The iptables-restore input that sets both chains to exactly these rules. */
export function firewallRules(c: FirewallChains, nets: FirewallNetwork[]): string {
  const f: string[] = [];
  for (const n of nets) {
    f.push(`-A ${c.filter} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    if (!n.internal) f.push(`-A ${c.filter} -o ${n.bridge} -m conntrack --ctstate DNAT -j ACCEPT`);
    f.push(`-A ${c.filter} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`);
    f.push(`-A ${c.filter} -o ${n.bridge} -j DROP`);
  }
  for (const n of nets) f.push(`-A ${c.filter} -i ${n.bridge} -j ${n.internal ? 'DROP' : 'ACCEPT'}`);
  const nat = nets.filter((n) => !n.internal).map((n) => `-A ${c.nat} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
  return ['*filter', `:${c.filter} - [0:0]`, ...f, 'COMMIT', '*nat', `:${c.nat} - [0:0]`, ...nat, 'COMMIT', ''].join('\n');
}

async function ensureJump(table: string, from: string, to: string): Promise<void> {
  try {
    await run('iptables', ['-w', '-t', table, '-C', from, '-j', to]);
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    await run('iptables', ['-w', '-t', table, '-I', from, '1', '-j', to]);
  }
}

/** Replaces the chains' rules and makes sure they are jumped to. */
export async function applyFirewall(c: FirewallChains, nets: FirewallNetwork[]): Promise<void> {
  await run('iptables-restore', ['-w', '--noflush'], { input: firewallRules(c, nets) });
  await ensureJump('filter', 'FORWARD', c.filter);
  await ensureJump('nat', 'POSTROUTING', c.nat);
}

/** Removes the jumps and the chains (clean shutdown). */
export async function removeFirewall(c: FirewallChains): Promise<void> {
  const quiet = (args: string[]) => run('iptables', ['-w', ...args]).catch(() => {});
  await quiet(['-t', 'filter', '-D', 'FORWARD', '-j', c.filter]);
  await quiet(['-t', 'nat', '-D', 'POSTROUTING', '-j', c.nat]);
  await quiet(['-t', 'filter', '-F', c.filter]);
  await quiet(['-t', 'filter', '-X', c.filter]);
  await quiet(['-t', 'nat', '-F', c.nat]);
  await quiet(['-t', 'nat', '-X', c.nat]);
}

/**
 * The portmap plugin's shared chains stay behind after its last DEL.
 * When no rule of any runtime is left in them, remove them and their jumps.
 */
export async function removeIdlePortmapChains(): Promise<void> {
  let dump: string;
  try {
    dump = (await run('iptables-save', ['-t', 'nat'])).stdout;
  } catch {
    return;
  }
  if (!dump.includes(':CNI-HOSTPORT-DNAT')) return;
  if (/^-A CNI-HOSTPORT-DNAT /m.test(dump) || /^-A CNI-DN-/m.test(dump)) return; // someone still publishes ports
  const quiet = (args: string[]) => run('iptables', ['-w', '-t', 'nat', ...args]).catch(() => {});
  for (const line of dump.split('\n')) {
    const m = /^-A (PREROUTING|OUTPUT|POSTROUTING) (.*-j CNI-HOSTPORT-(?:DNAT|MASQ))$/.exec(line);
    if (m) await run('sh', ['-c', `iptables -w -t nat -D ${m[1]} ${m[2]}`]).catch(() => {});
  }
  for (const ch of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK']) {
    await quiet(['-F', ch]);
    await quiet(['-X', ch]);
  }
}

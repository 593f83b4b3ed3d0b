/**
 * Load balancing of a virtual IP over its backends with iptables, used by
 * service VIPs (in each container namespace on an overlay network) and by
 * the ingress routing mesh (in each node's own nat table). This kernel has no
 * IPVS, so instead of IPVS's per-connection scheduler each new connection
 * to the VIP meets a chain of DNAT rules with the `statistic` match:
 *
 *   -A BERTH-LB -d 10.0.1.2/32 -m statistic --mode random --probability 0.33333333333 -j DNAT --to-destination 10.0.1.5
 *   -A BERTH-LB -d 10.0.1.2/32 -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.1.6
 *   -A BERTH-LB -d 10.0.1.2/32 -j DNAT --to-destination 10.0.1.7
 *
 * The i-th of n rules matches with probability 1/(n-i), so each backend
 * gets 1/n of the new connections; conntrack keeps a connection on the
 * backend it got. The chain is declared in every plan, which makes
 * `iptables-restore --noflush` flush and rewrite it as one transaction.
 */
import { run } from '../../lib/exec.js';

export const LB_CHAIN = 'BERTH-LB';

export interface VipBackends {
  /** The virtual address, e.g. 10.0.1.2; '' matches any destination (the chain's jump says which). */
  vip: string;
  /** The task addresses behind it; none: the VIP leads nowhere (no rule). */
  backends: string[];
  /** Ingress: only this protocol/port, DNATed to the backends' target port. */
  port?: { protocol: 'tcp' | 'udp'; published: number; target: number };
}

/** The 1/(n-i) probability of the i-th of n rules, as iptables prints it. */
export function ruleProbability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(11);
}

/** iptables-restore input (nat table) for the chain `chain` spreading each VIP over its backends. */
export function lbRules(vips: VipBackends[], chain = LB_CHAIN): string {
  const lines = ['*nat', `:${chain} - [0:0]`];
  const sorted = [...vips].sort((a, b) => a.vip.localeCompare(b.vip) || (a.port?.published ?? 0) - (b.port?.published ?? 0));
  for (const v of sorted) {
    const backends = [...new Set(v.backends)].sort();
    const dst = v.vip ? [`-d ${v.vip}/32`] : [];
    const match = [...dst, ...(v.port ? [`-p ${v.port.protocol} -m ${v.port.protocol} --dport ${v.port.published}`] : [])].join(' ');
    backends.forEach((b, i) => {
      const to = v.port ? `${b}:${v.port.target}` : b;
      const pick = i < backends.length - 1 ? ` -m statistic --mode random --probability ${ruleProbability(i, backends.length)}` : '';
      lines.push(`-A ${chain} ${match}${pick} -j DNAT --to-destination ${to}`);
    });
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Shell that loads `lbRules` output from stdin and makes sure `hook` (e.g. OUTPUT) jumps to the chain once. */
export function lbApplyScript(hook: string, chain = LB_CHAIN): string {
  return `iptables-restore -w --noflush && { iptables -w -t nat -C ${hook} -j ${chain} 2>/dev/null || iptables -w -t nat -I ${hook} -j ${chain}; }`;
}

/** Writes the rules into the network namespace at `netnsPath` (locally generated traffic: OUTPUT). */
export async function applyLbRules(netnsPath: string, vips: VipBackends[], hook = 'OUTPUT'): Promise<void> {
  await run('nsenter', [`--net=${netnsPath}`, 'sh', '-c', lbApplyScript(hook)], { input: lbRules(vips) });
}

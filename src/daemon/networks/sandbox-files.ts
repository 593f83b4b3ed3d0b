/**
 * /etc/hosts and /etc/resolv.conf of a container for each network mode
 * (pure; oci-notes §4.3):
 *
 *   default bridge, none   the host's resolv.conf without loopback resolvers
 *   user-defined network   `nameserver 127.0.0.11` + `options ndots:0`, as dockerd writes
 *   host                   the host's files as they are
 *
 * berth's DNS server of a user network listens on the network's gateway
 * address (one socket per network); in each container's namespace
 * 127.0.0.11:53 is DNATed to it (embeddedDnsRules), so containers see the
 * address Docker's embedded DNS has.
 */
/** The resolver address containers on user-defined networks are given (Docker's embedded DNS). */
export const EMBEDDED_DNS = '127.0.0.11';

/**
 * The nat rules (iptables-restore input) inside a container's namespace
 * that take 127.0.0.11:53 to berth's DNS server on the gateway: DNAT on
 * OUTPUT, and SNAT from loopback to the container's address so the reply
 * comes back through eth0. Routing a loopback source out of eth0 also
 * takes net.ipv4.conf.<eth0>.route_localnet=1 in that namespace.
 */
export function embeddedDnsRules(gateway: string, containerIp: string): string {
  return [
    '*nat',
    ...['udp', 'tcp'].map((p) => `-A OUTPUT -d ${EMBEDDED_DNS}/32 -p ${p} --dport 53 -j DNAT --to-destination ${gateway}:53`),
    `-A POSTROUTING -s 127.0.0.0/8 -d ${gateway}/32 -j SNAT --to-source ${containerIp}`,
    'COMMIT',
    '',
  ].join('\n');
}

export interface DnsSettings {
  dns: string[];
  search: string[];
  options: string[];
}

function parse(text: string): { nameservers: string[]; search: string[]; options: string[]; other: string[] } {
  const out = { nameservers: [] as string[], search: [] as string[], options: [] as string[], other: [] as string[] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
    else out.other.push(line);
  }
  return out;
}

export function hostNameservers(hostResolvConf: string): string[] {
  return parse(hostResolvConf).nameservers;
}

const LOOPBACK = /^(127\.|::1$|0\.0\.0\.0$)/;

function render(nameservers: string[], search: string[], options: string[]): string {
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${[...new Set(options)].join(' ')}`);
  return lines.join('\n') + '\n';
}

export type ResolvMode = { kind: 'host' } | { kind: 'default' } | { kind: 'embedded'; server: string };

export function resolvConf(hostResolvConf: string, mode: ResolvMode, user: DnsSettings): string {
  const host = parse(hostResolvConf);
  const search = user.search.length ? user.search.filter((s) => s !== '.') : host.search;
  const options = user.options.length ? user.options : host.options;
  if (mode.kind === 'host') {
    if (!user.dns.length && !user.search.length && !user.options.length) return hostResolvConf.endsWith('\n') ? hostResolvConf : hostResolvConf + '\n';
    return render(user.dns.length ? user.dns : host.nameservers, search, options);
  }
  if (mode.kind === 'embedded') {
    // the container's own --dns servers are asked by berth's DNS server, not the container
    return render([mode.server], search, [...options.filter((o) => !o.startsWith('ndots:')), 'ndots:0']);
  }
  let ns = user.dns.length ? user.dns : host.nameservers.filter((n) => !LOOPBACK.test(n));
  if (!ns.length) ns = ['8.8.8.8', '8.8.4.4'];
  return render(ns, search, options);
}

/** /etc/hosts: localhost lines, --add-host entries, then the container's own addresses. */
export function hostsFile(hostname: string, domainname: string, ips: string[], extraHosts: string[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const e of extraHosts) {
    const i = e.indexOf(':');
    if (i > 0) lines.push(`${e.slice(i + 1).replace(/^\[|\]$/g, '')}\t${e.slice(0, i)}`);
  }
  const names = domainname ? `${hostname}.${domainname} ${hostname}` : hostname;
  for (const ip of ips) lines.push(`${ip}\t${names}`);
  return lines.join('\n') + '\n';
}

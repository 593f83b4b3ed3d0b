/** `berth network create|ls|inspect|rm|prune|connect|disconnect` (docker network's flags and output). */
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { IpamConfig, Network } from '../../../api/types/index.js';
import { contains, parseCidr, parseIp } from '../../../lib/ipv4.js';
import { collect, keyValues, type CliContext } from '../../context.js';
import { forEachRef, inspectEach } from '../../each.js';
import { renderList } from '../../format/formatter.js';
import { confirm } from '../../prompt.js';
import { printPrune, pruneNetworks } from '../../prune.js';

export function networkCommands(ctx: CliContext): Command[] {
  const create = new Command('create')
    .description('Create a network')
    .argument('<network>')
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--subnet <string>', 'Subnet in CIDR format that represents a network segment', collect, [])
    .option('--gateway <string>', 'IPv4 Gateway for the master subnet', collect, [])
    .option('--ip-range <string>', 'Allocate container ip from a sub-range', collect, [])
    .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect, [])
    .option('--internal', 'Restrict external access to the network')
    .option('--attachable', 'Enable manual container attachment')
    .option('--label <list>', 'Set metadata on a network', collect, [])
    .option('-o, --opt <map>', 'Set driver specific options', collect, [])
    .option('--ipv6', 'Enable IPv6 networking')
    .option('--scope <string>', "Control the network's scope")
    .action(async (name: string, o: { scope?: string; driver: string; subnet: string[]; gateway: string[]; ipRange: string[]; auxAddress: string[]; internal?: boolean; attachable?: boolean; label: string[]; opt: string[]; ipv6?: boolean }) => {
      const c = await ctx.client();
      const config: IpamConfig[] = o.subnet.map((s, i) => ({ Subnet: s, ...(o.gateway[i] ? { Gateway: o.gateway[i] } : {}), ...(o.ipRange[i] ? { IPRange: o.ipRange[i] } : {}) }));
      addAuxAddresses(config, keyValues(o.auxAddress));
      const res = await c.json<{ Id: string }>('POST', '/networks/create', {
        body: {
          Name: name, Driver: o.driver, IPAM: { Driver: 'default', Options: {}, Config: config }, Internal: !!o.internal,
          Attachable: !!o.attachable, EnableIPv6: !!o.ipv6, Options: keyValues(o.opt), Labels: keyValues(o.label),
          ...(o.scope ? { Scope: o.scope } : {}),
        },
      });
      ctx.print(res.Id);
    });

  const ls = new Command('ls').alias('list')
    .description('List networks')
    .option('-q, --quiet', 'Only display network IDs')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { quiet?: boolean; trunc: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const nets = (await c.get<Network[]>('/networks', { filters: Filters.fromFlags(o.filter).toQuery() })).sort((a, b) => a.Name.localeCompare(b.Name));
      const id = (s: string) => (o.trunc ? s.slice(0, 12) : s);
      ctx.out.write(renderList({
        format: o.format, quiet: o.quiet, defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
        headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' },
        rows: nets.map((n) => ({
          ID: id(n.Id), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: String(n.EnableIPv6), Internal: String(n.Internal),
          Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: n.Created,
        })),
      }));
    });

  const inspect = new Command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<network...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (refs: string[], o: { format?: string }) => {
      const c = await ctx.client();
      await inspectEach(ctx, refs, (r) => c.get<Network>(`/networks/${encodeURIComponent(r)}`), o.format);
    });

  const rm = new Command('rm').alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(async (refs: string[], o: { force?: boolean }) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (r) => {
        try {
          await c.delete(`/networks/${encodeURIComponent(r)}`);
        } catch (err) {
          if (o.force && /not found/.test((err as Error).message)) return;
          throw err;
        }
        ctx.print(r);
      });
    });

  const prune = new Command('prune')
    .description('Remove all unused networks')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { force?: boolean; filter: string[] }) => {
      if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return;
      printPrune(ctx, [await pruneNetworks(await ctx.client(), o.filter)], false);
    });

  const connect = new Command('connect')
    .description('Connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect, [])
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .action(async (net: string, container: string, o: { alias: string[]; ip?: string }) => {
      const c = await ctx.client();
      await c.post(`/networks/${encodeURIComponent(net)}/connect`, {
        body: { Container: container, EndpointConfig: { IPAMConfig: o.ip ? { IPv4Address: o.ip } : {}, Aliases: o.alias } },
      });
    });

  const disconnect = new Command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (net: string, container: string, o: { force?: boolean }) => {
      const c = await ctx.client();
      await c.post(`/networks/${encodeURIComponent(net)}/disconnect`, { body: { Container: container, Force: !!o.force } });
    });

  return [create, ls, inspect, rm, prune, connect, disconnect];
}

/** docker's rule: each --aux-address goes to the --subnet that holds it. */
function addAuxAddresses(config: IpamConfig[], aux: Record<string, string>): void {
  for (const [name, ip] of Object.entries(aux)) {
    const addr = parseIp(ip);
    const target = addr === undefined ? undefined : config.find((c) => {
      const subnet = parseCidr(c.Subnet ?? '');
      return subnet !== undefined && contains(subnet.cidr, addr);
    });
    if (!target) throw new Error(`no matching subnet for aux-address ${ip}`);
    target.AuxiliaryAddresses = { ...(target.AuxiliaryAddresses ?? {}), [name]: ip };
  }
}

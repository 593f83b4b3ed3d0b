/** pause, unpause, rename, update, port, top, prune: verbs with little logic of their own. */
import { Command } from 'commander';
import type { ContainerInspect } from '../../../api/types/index.js';
import { collect, ExitError, type CliContext } from '../../context.js';
import { forEachRef } from '../../each.js';
import { TabWriter } from '../../format/tabwriter.js';
import { confirm } from '../../prompt.js';
import { printPrune, pruneContainers } from '../../prune.js';
import { parseBytes } from './create-options.js';

export function pauseCommand(ctx: CliContext, verb: 'pause' | 'unpause'): Command {
  return new Command(verb)
    .description(verb === 'pause' ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers')
    .argument('<container...>')
    .action(async (refs: string[]) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (ref) => {
        await c.post(`/containers/${encodeURIComponent(ref)}/${verb}`);
        ctx.print(ref);
      });
    });
}

export function renameCommand(ctx: CliContext): Command {
  return new Command('rename')
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (ref: string, name: string) => {
      const c = await ctx.client();
      await c.post(`/containers/${encodeURIComponent(ref)}/rename`, { query: { name } });
    });
}

export function updateCommand(ctx: CliContext): Command {
  return new Command('update')
    .description('Update configuration of one or more containers')
    .argument('<container...>')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'Limit CPU CFS period')
    .option('--cpu-quota <int>', 'Limit CPU CFS quota')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--restart <string>', 'Restart policy to apply when a container exits')
    .action(async (refs: string[], o: Record<string, string | undefined>) => {
      const body: Record<string, unknown> = {};
      if (o.memory) body.Memory = parseBytes(o.memory);
      if (o.memorySwap) body.MemorySwap = o.memorySwap === '-1' ? -1 : parseBytes(o.memorySwap);
      if (o.memoryReservation) body.MemoryReservation = parseBytes(o.memoryReservation);
      if (o.cpus) body.NanoCpus = Math.round(Number(o.cpus) * 1e9);
      if (o.cpuShares) body.CpuShares = Number(o.cpuShares);
      if (o.cpuPeriod) body.CpuPeriod = Number(o.cpuPeriod);
      if (o.cpuQuota) body.CpuQuota = Number(o.cpuQuota);
      if (o.cpusetCpus) body.CpusetCpus = o.cpusetCpus;
      if (o.pidsLimit) body.PidsLimit = Number(o.pidsLimit);
      if (o.restart) {
        const [Name, count] = o.restart.split(':');
        body.RestartPolicy = { Name, MaximumRetryCount: count ? Number(count) : 0 };
      }
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (ref) => {
        const r = await c.json<{ Warnings: string[] | null }>('POST', `/containers/${encodeURIComponent(ref)}/update`, { body });
        for (const w of r.Warnings ?? []) ctx.err.write(`${w}\n`);
        ctx.print(ref);
      });
    });
}

export function portCommand(ctx: CliContext): Command {
  return new Command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[private_port[/proto]]')
    .action(async (ref: string, want: string | undefined) => {
      const c = await ctx.client();
      const info = await c.get<ContainerInspect>(`/containers/${encodeURIComponent(ref)}/json`);
      const ports = (info.NetworkSettings.Ports ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>;
      const key = want ? (want.includes('/') ? want : `${want}/tcp`) : undefined;
      if (key && !(key in ports)) throw new ExitError(1, `Error: No public port '${key}' published for ${ref}`);
      for (const [port, bindings] of Object.entries(ports)) {
        if (key && port !== key) continue;
        for (const b of bindings ?? []) {
          const addr = `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
          ctx.print(key ? addr : `${port} -> ${addr}`);
        }
      }
    });
}

export function topCommand(ctx: CliContext): Command {
  return new Command('top')
    .description('Display the running processes of a container')
    .argument('<container>')
    .argument('[ps-options...]')
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[]) => {
      const c = await ctx.client();
      const r = await c.get<{ Titles: string[]; Processes: string[][] }>(`/containers/${encodeURIComponent(ref)}/top`, psArgs.length ? { ps_args: psArgs.join(' ') } : undefined);
      // docker/cli top: tabwriter(20, 1, 3, ' ', 0)
      const w = new TabWriter({ minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ', flags: 0, width: 'display' });
      for (const row of [r.Titles, ...r.Processes]) w.write(row.join('\t') + '\n');
      ctx.out.write(w.flush());
    });
}

export function pruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove all stopped containers')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .action(async (o: { force?: boolean; filter: string[] }) => {
      if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return;
      printPrune(ctx, [await pruneContainers(await ctx.client(), o.filter)]);
    });
}

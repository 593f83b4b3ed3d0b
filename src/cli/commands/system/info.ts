import { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { renderInspect } from '../../format/formatter.js';
import { bytesSize } from '../../format/units.js';

export function infoCommand(ctx: CliContext): Command {
  return new Command('info')
    .description('Display system-wide information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      const c = await ctx.client();
      const i = await c.get<Record<string, unknown>>('/info');
      if (o.format) {
        ctx.out.write(renderInspect(o.format, [i]));
        return;
      }
      const mem = Number(i.MemTotal ?? 0);
      const lines = [
        'Server:',
        ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
        ` Images: ${i.Images}`,
        ` Server Version: ${i.ServerVersion}`,
        ` Storage Driver: ${i.Driver}`,
        ` Logging Driver: ${i.LoggingDriver}`,
        ` Cgroup Driver: ${i.CgroupDriver}`,
        ` Cgroup Version: ${i.CgroupVersion}`,
        ` Kernel Version: ${i.KernelVersion}`,
        ` Operating System: ${i.OperatingSystem}`,
        ` Architecture: ${i.Architecture}`,
        ` CPUs: ${i.NCPU}`,
        ` Total Memory: ${bytesSize(mem)}`,
        ` Name: ${i.Name}`,
        ` ID: ${i.ID}`,
        ` Docker Root Dir: ${i.DockerRootDir}`,
        ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
      ];
      ctx.out.write(lines.join('\n') + '\n');
    });
}

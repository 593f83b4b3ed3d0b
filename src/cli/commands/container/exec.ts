import { Command } from 'commander';
import type { ContainerInspect, ExecInspect } from '../../../api/types/index.js';
import { collect, ExitError, type CliContext } from '../../context.js';
import { pumpStreams } from './stream-io.js';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
  detachKeys?: string;
}

export function execCommand(ctx: CliContext): Command {
  return new Command('exec')
    .description('Execute a command in a running container')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<container>')
    .argument('<command...>')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('-e, --env <list>', 'Set environment variables', collect, [])
    .option('--env-file <list>', 'Read in a file of environment variables', collect, [])
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('--privileged', 'Give extended privileges to the command')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .passThroughOptions()
    .action(async (ref: string, cmd: string[], f: ExecFlags) => {
      const c = await ctx.client();
      if (f.tty && f.interactive && !f.detach && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
      const info = await c.get<ContainerInspect>(`/containers/${encodeURIComponent(ref)}/json`);
      if (!info.State.Running) throw new ExitError(1, `Error response from daemon: Container ${info.Id} is not running`);
      const size: [number, number] | undefined = f.tty && ctx.out.isTTY ? [ctx.out.rows, ctx.out.columns] : undefined;
      const attach = !f.detach;
      const { Id } = await c.json<{ Id: string }>('POST', `/containers/${info.Id}/exec`, {
        body: {
          User: f.user ?? '', Privileged: !!f.privileged, Tty: !!f.tty, AttachStdin: attach && !!f.interactive,
          AttachStdout: attach, AttachStderr: attach, Detach: !!f.detach, DetachKeys: f.detachKeys ?? '',
          Env: f.env, WorkingDir: f.workdir ?? '', Cmd: cmd, ...(size ? { ConsoleSize: size } : {}),
        },
      });
      if (f.detach) {
        await c.post(`/exec/${Id}/start`, { body: { Detach: true, Tty: !!f.tty } });
        return;
      }
      const socket = await c.hijack(`/exec/${Id}/start`, { body: { Detach: false, Tty: !!f.tty, ...(size ? { ConsoleSize: size } : {}) } });
      const resize = (h: number, w: number) => void c.post(`/exec/${Id}/resize`, { query: { h, w } }).catch(() => {});
      const { detached } = await pumpStreams(socket, { tty: !!f.tty, stdin: !!f.interactive, out: ctx.out, err: ctx.err, onResize: resize });
      if (detached) return;
      const r = await c.get<ExecInspect>(`/exec/${Id}/json`);
      if (r.ExitCode) throw new ExitError(r.ExitCode);
    });
}

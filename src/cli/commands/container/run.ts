/** `berth run`: create, attach, start, stream, and exit with the container's status. */
import { Command } from 'commander';
import type { Socket } from 'node:net';
import { startFailureStatus } from '../../../api/start-errors.js';
import { isBerthError } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { addCreateOptions, createRequest, type CreateFlags } from './create-options.js';
import { createContainer } from './create-container.js';
import { pumpStreams } from './stream-io.js';

interface RunFlags extends CreateFlags {
  detach?: boolean;
  sigProxy: boolean;
}

/** Forwards our signals to the container, like the docker CLI's sig-proxy. */
export function proxySignals(kill: (sig: string) => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM', 'SIGCONT'];
  const handlers = signals.filter((s) => s !== 'SIGWINCH').map((s) => {
    const h = () => kill(s.slice(3));
    process.on(s, h);
    return () => process.off(s, h);
  });
  return () => handlers.forEach((off) => off());
}

export function runCommand(ctx: CliContext): Command {
  const cmd = new Command('run')
    .description('Create and run a new container from an image')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--no-sig-proxy', 'Do not proxy received signals to the process')
    .passThroughOptions();
  addCreateOptions(cmd);
  return cmd.action(async (image: string, args: string[], flags: RunFlags) => {
    throw new ExitError(await run(ctx, image, args, flags));
  });
}

async function run(ctx: CliContext, image: string, args: string[], f: RunFlags): Promise<number> {
  const detach = !!f.detach;
  if (f.tty && f.interactive && !detach && !process.stdin.isTTY) {
    ctx.err.write('the input device is not a TTY\n');
    return 1;
  }
  const size: [number, number] = ctx.out.isTTY ? [ctx.out.rows, ctx.out.columns] : [0, 0];
  const req = createRequest(f, image, args, !detach, size);
  let id: string;
  try {
    id = await createContainer(ctx, req, f.name, f.pull ?? 'missing', f.platform);
  } catch (err) {
    return daemonError(ctx, err, 125);
  }
  const c = await ctx.client();
  const attaching = !detach && (req.AttachStdout || req.AttachStderr || req.AttachStdin);
  let socket: Socket | undefined;
  if (attaching) {
    socket = await c.hijack(`/containers/${id}/attach`, {
      query: { stream: 1, stdin: req.AttachStdin ? 1 : 0, stdout: req.AttachStdout ? 1 : 0, stderr: req.AttachStderr ? 1 : 0 },
    });
  }
  // the wait goes out before start, so a fast exit (or --rm) is never missed
  const condition = req.HostConfig?.AutoRemove ? 'removed' : 'next-exit';
  const waitRes = await c.call('POST', `/containers/${id}/wait`, { query: { condition } });
  const waited = readWait(waitRes);
  waited.catch(() => {}); // abandoned when we detach or fail to start
  try {
    await c.post(`/containers/${id}/start`);
  } catch (err) {
    socket?.destroy();
    waitRes.destroy();
    return daemonError(ctx, err, startFailureStatus((err as Error).message, 125));
  }
  if (detach) {
    waitRes.destroy();
    ctx.print(id);
    return 0;
  }
  const resize = (h: number, w: number) => void c.post(`/containers/${id}/resize`, { query: { h, w } }).catch(() => {});
  if (req.Tty && ctx.out.isTTY) resize(ctx.out.rows, ctx.out.columns);
  const stopProxy = !req.Tty && f.sigProxy ? proxySignals((sig) => void c.post(`/containers/${id}/kill`, { query: { signal: sig } }).catch(() => {})) : () => {};
  try {
    const { detached } = await pumpStreams(socket!, { tty: req.Tty!, stdin: !!req.AttachStdin, out: ctx.out, err: ctx.err, onResize: resize });
    if (detached) {
      waitRes.destroy();
      return 0;
    }
    return (await waited).StatusCode;
  } finally {
    stopProxy();
  }
}

async function readWait(res: AsyncIterable<Buffer>): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number; Error: { Message: string } | null };
}

/** Prints a daemon error the way `docker run` does and returns the exit status. */
export function daemonError(ctx: CliContext, err: unknown, status: number): number {
  const msg = (err as Error).message;
  const fromDaemon = isBerthError(err) && err.code.startsWith('api.');
  ctx.err.write(`berth: ${fromDaemon ? 'Error response from daemon: ' : ''}${msg.replace(/\.$/, '')}.\n`);
  ctx.err.write("See 'berth run --help'.\n");
  return status;
}

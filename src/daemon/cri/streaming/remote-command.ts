/**
 * Exec and attach over the kubelet's websocket channel protocols: stdin
 * on channel 0, stdout 1, stderr 2 (a TTY's output is all stdout), the
 * outcome as a JSON Status on channel 3 (v4 and later; the older protocols
 * send only an error's text there), terminal sizes as JSON on channel 4.
 */
import { PassThrough, Writable } from 'node:stream';
import { StdDemuxer, StdStream } from '../../../api/stdcopy.js';
import type { ContainerService } from '../../containers/service.js';
import type { ExecService } from '../../containers/exec.js';
import { type Channels, CLOSE_SIGNAL, ERROR, RESIZE, STDERR, STDIN, STDOUT } from './channels.js';

export interface ExecRequest { container_id: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }
export interface AttachRequest { container_id: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }

export interface RemoteCommandDeps {
  containers: Pick<ContainerService, 'attach' | 'resize'>;
  execs: Pick<ExecService, 'create' | 'start' | 'inspect' | 'resize'>;
}

interface Size { Width: number; Height: number }

function parseSize(data: Buffer): Size | undefined {
  try {
    const s = JSON.parse(data.toString('utf8')) as Partial<Size>;
    return s.Width && s.Height ? { Width: Number(s.Width), Height: Number(s.Height) } : undefined;
  } catch {
    return undefined;
  }
}

/** The client's stdin as a stream: channel 0's bytes, ended by the v5 close signal or the socket's close. */
function stdinOf(sock: Channels, onResize: (s: Size) => void, wantStdin: boolean): PassThrough | undefined {
  const stdin = wantStdin ? new PassThrough() : undefined;
  sock.onClose(() => stdin?.end());
  sock.onFrame = (channel, data) => {
    if (channel === STDIN && stdin && !stdin.writableEnded) stdin.write(data);
    else if (channel === RESIZE) {
      const s = parseSize(data);
      if (s) onResize(s);
    } else if (channel === CLOSE_SIGNAL && data[0] === STDIN) stdin?.end();
  };
  return stdin;
}

/** The Status the kubelet writes on the error channel (v4+), or the error's text (older protocols). */
export function statusFrame(version: number, failure: { message: string; exitCode?: number } | undefined): Buffer | undefined {
  if (version < 4) return failure ? Buffer.from(failure.message) : undefined;
  if (!failure) return Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }));
  const status = failure.exitCode !== undefined
    ? { metadata: {}, status: 'Failure', message: failure.message, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(failure.exitCode) }] } }
    : { metadata: {}, status: 'Failure', message: failure.message };
  return Buffer.from(JSON.stringify(status));
}

function finish(sock: Channels, failure: { message: string; exitCode?: number } | undefined): void {
  const frame = statusFrame(sock.version, failure);
  if (frame) sock.send(ERROR, frame);
  void sock.drained().then(() => sock.close());
}

export async function serveExec(sock: Channels, req: ExecRequest, d: RemoteCommandDeps): Promise<void> {
  let execId: string;
  try {
    ({ Id: execId } = d.execs.create(req.container_id, {
      Cmd: req.cmd, Tty: req.tty, AttachStdin: req.stdin, AttachStdout: req.stdout, AttachStderr: req.stderr,
    }));
  } catch (err) {
    finish(sock, { message: (err as Error).message });
    return;
  }
  // read by the exec service once the process runs: a size sent before that still applies
  const consoleSize: [number, number] = [0, 0];
  const stdin = stdinOf(sock, (s) => {
    consoleSize[0] = s.Height;
    consoleSize[1] = s.Width;
    d.execs.resize(execId, s.Height, s.Width).catch(() => {});
  }, req.stdin);
  const demux = new StdDemuxer((stream, payload) => {
    const channel = stream === StdStream.Stderr ? STDERR : STDOUT;
    if (channel === STDOUT ? req.stdout : req.stderr) sock.send(channel, Buffer.from(payload));
  });
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      const more = req.tty ? (req.stdout ? sock.send(STDOUT, chunk) : true) : (demux.push(chunk), true);
      if (more) done();
      else void sock.drained().then(() => done());
    },
  });
  try {
    await d.execs.start(execId, { output, ...(stdin ? { stdin } : {}), tty: req.tty }, consoleSize);
  } catch (err) {
    finish(sock, { message: (err as Error).message });
    return;
  }
  const code = d.execs.inspect(execId).ExitCode ?? 0;
  // the kubelet's wording for a CodeExitError (cmd printed as Go prints a []string)
  finish(sock, code === 0 ? undefined : { message: `command terminated with non-zero exit code: error executing command [${req.cmd.join(' ')}], exit code ${code}`, exitCode: code });
}

export async function serveAttach(sock: Channels, req: AttachRequest, d: RemoteCommandDeps): Promise<void> {
  const stdin = stdinOf(sock, (s) => void d.containers.resize(req.container_id, s.Height, s.Width).catch(() => {}), req.stdin);
  let detach: (() => void) | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    finish(sock, undefined);
  };
  try {
    ({ detach } = await d.containers.attach(req.container_id, () => ({
      stdout: req.stdout, stderr: req.stderr,
      sink: (stream, data) => sock.send(stream === 'stderr' && !req.tty ? STDERR : STDOUT, data),
      drained: () => sock.drained(),
      onEnd: end,
      ...(stdin ? { stdin } : {}),
    })));
  } catch (err) {
    ended = true;
    finish(sock, { message: (err as Error).message });
    return;
  }
  // a client that goes away detaches; the container keeps running
  sock.onClose(() => detach?.());
}

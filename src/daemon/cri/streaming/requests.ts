/**
 * The CRI's Exec, Attach and PortForward calls: check the request as
 * containerd does, then hand out a one-time URL on the streaming server.
 */
import { InvalidParameter, NotModified } from '../../../errdefs/index.js';
import type { PodContainers } from '../pod-containers.js';
import type { PodSandboxes } from '../pod-sandboxes.js';
import { podIp } from '../records.js';
import type { StreamServer } from './server.js';

type Flags = { tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean };

function checkFlags(r: Flags): void {
  if (!r.stdin && !r.stdout && !r.stderr) throw new InvalidParameter('cri.stream_no_streams', 'one of stdin, stdout, or stderr must be set');
  if (r.tty && r.stderr) throw new InvalidParameter('cri.stream_tty_stderr', 'tty and stderr cannot both be true');
}

export class CriStreaming {
  constructor(private readonly d: {
    server: StreamServer; containers: Pick<PodContainers, 'get'>; sandboxes: Pick<PodSandboxes, 'get'>;
    /** socat's path when installed: port forwarding then connects inside the pod's namespace. */
    socat?: string | undefined;
  }) {}

  private running(id: string): string {
    const rec = this.d.containers.get(id);
    if (!rec.state.Running) throw new NotModified('cri.container_not_running', `container ${rec.id} is not in running state`);
    return rec.id;
  }

  exec(r: Flags & { container_id?: string; cmd?: string[] }): { url: string } {
    const id = this.running(r.container_id ?? '');
    if (!r.cmd?.length) throw new InvalidParameter('cri.exec_no_command', 'cmd must not be empty');
    checkFlags(r);
    return { url: this.d.server.execUrl({ container_id: id, cmd: r.cmd, tty: !!r.tty, stdin: !!r.stdin, stdout: !!r.stdout, stderr: !!r.stderr }) };
  }

  attach(r: Flags & { container_id?: string }): { url: string } {
    const id = this.running(r.container_id ?? '');
    checkFlags(r);
    return { url: this.d.server.attachUrl({ container_id: id, tty: !!r.tty, stdin: !!r.stdin, stdout: !!r.stdout, stderr: !!r.stderr }) };
  }

  portForward(r: { pod_sandbox_id?: string }): { url: string } {
    const rec = this.d.sandboxes.get(r.pod_sandbox_id ?? '');
    if (!rec.state.Running) throw new NotModified('cri.sandbox_not_ready', `sandbox container ${JSON.stringify(rec.id)} is not running`);
    // without socat: the pod's address from the host; a pod on the node's network listens on the node's own
    const target = this.d.socat && rec.state.Pid ? { netnsPid: rec.state.Pid, socat: this.d.socat }
      : { address: rec.hostConfig.NetworkMode === 'host' ? '127.0.0.1' : podIp(rec) };
    return { url: this.d.server.portForwardUrl(rec.id, target) };
  }
}

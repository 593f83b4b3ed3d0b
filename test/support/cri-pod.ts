/**
 * A berthd serving the CRI on a socket of its own, with busybox loaded and
 * one pod sandbox running (the default infra image, which berthd makes
 * offline at the first pod): what the CRI e2e files that work in one pod
 * start from.
 *
 *   const p = await CriPod.start('streams');
 *   const id = await p.startContainer('sleeper', ['sleep', '3600']);
 *   ... await p.destroy();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient } from './cri-client.js';
import { TestDaemon } from './daemon.js';

export interface PodConfig {
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  hostname: string;
  log_directory: string;
  labels: Record<string, string>;
}

export class CriPod {
  private constructor(
    readonly d: TestDaemon,
    readonly cri: CriClient,
    readonly dir: string,
    /** The sandbox's id and the config it was run with (CreateContainer takes it again). */
    readonly id: string,
    readonly config: PodConfig,
  ) {}

  /** `name` names the temporary directory, the pod and its hostname; `labels` are the pod's. */
  static async start(name: string, labels: Record<string, string> = {}): Promise<CriPod> {
    const dir = mkdtempSync(`/tmp/berth-cri-${name}-`);
    let d: TestDaemon | undefined;
    let cri: CriClient | undefined;
    try {
      d = await TestDaemon.start({ extraArgs: ['--cri-socket', join(dir, 'cri.sock')] });
      await d.busybox();
      cri = new CriClient(join(dir, 'cri.sock'));
      const config: PodConfig = { metadata: { name, namespace: 'default', uid: `${name}-${process.pid}`, attempt: 0 }, hostname: name, log_directory: join(dir, 'logs'), labels };
      const id = (await cri.runtime('RunPodSandbox', { config })).pod_sandbox_id as string;
      return new CriPod(d, cri, dir, id, config);
    } catch (err) {
      cri?.close();
      await d?.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Creates and starts a busybox container in the pod (its log at `<name>.log`); `extra` adds to its config. */
  async startContainer(name: string, command: string[], extra: Record<string, unknown> = {}): Promise<string> {
    const id = (await this.cri.runtime('CreateContainer', {
      pod_sandbox_id: this.id, sandbox_config: this.config,
      config: { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, command, log_path: `${name}.log`, ...extra },
    })).container_id as string;
    await this.cri.runtime('StartContainer', { container_id: id });
    return id;
  }

  async destroy(): Promise<void> {
    await this.cri.runtime('StopPodSandbox', { pod_sandbox_id: this.id }).catch(() => {});
    await this.cri.runtime('RemovePodSandbox', { pod_sandbox_id: this.id }).catch(() => {});
    this.cri.close();
    await this.d.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

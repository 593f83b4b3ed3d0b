/**
 * Builds the CRI endpoint from the daemon's services (called by wire.ts
 * only when a CRI socket is configured, through a dynamic import, so a
 * daemon without it never loads gRPC).
 */
import { access } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { AuthConfig } from '../../api/registry-auth.js';
import type { Logger } from '../../lib/logger.js';
import type { ContainerService } from '../containers/service.js';
import type { ExecService } from '../containers/exec.js';
import type { ImageStore } from '../images/image-store.js';
import type { ImageService } from '../images/service.js';
import { CriImages } from './images.js';
import { PAUSE_CHANGES, pauseRootfs, STATIC_BUSYBOX } from './pause-image.js';
import { PodContainers } from './pod-containers.js';
import { PodShm } from './pod-shm.js';
import { PodSandboxes, type CriRecords } from './pod-sandboxes.js';
import { CriServer } from './server.js';
import { CriStats, type CriStatsDeps } from './stats.js';
import { CriStreaming } from './streaming/requests.js';
import { StreamServer } from './streaming/server.js';

export interface CriEndpointDeps {
  socket: string;
  sandboxImage: string;
  containers: Pick<ContainerService, 'create' | 'start' | 'stop' | 'remove' | 'attach' | 'resize' | 'update'>;
  reopenLog(id: string): Promise<boolean>;
  execs: Pick<ExecService, 'create' | 'start' | 'inspect' | 'resize'>;
  killExec(execId: string): Promise<void>;
  records: CriRecords;
  images: Pick<ImageStore, 'list' | 'tryResolve' | 'tagsOf'>;
  removeImage: ImageService['remove'];
  pull(ref: string, creds: AuthConfig): Promise<void>;
  /** `docker import`: a rootfs tar as an image named `ref`, with Dockerfile `changes`. */
  importImage(rootfs: Readable, ref: string, changes: string[]): Promise<void>;
  layersDir: string;
  sample: CriStatsDeps['sample'];
  writableLayer: CriStatsDeps['writableLayer'];
  runtimeVersion: string;
  /** Where the pods' /dev/shm tmpfs mounts go (under the daemon's exec root). */
  shmRoot?: string;
  log: Logger;
}

/** The running endpoint: the gRPC server and the streaming server its Exec, Attach and PortForward point to. */
export interface CriEndpoint {
  close(): Promise<void>;
}

/** The infra image the kubelet expects by default: berth makes it from busybox rather than pull it. */
export const DEFAULT_SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';

export async function startCriEndpoint(d: CriEndpointDeps): Promise<CriEndpoint> {
  const images = new CriImages({ images: d.images, remove: d.removeImage, pull: d.pull, layersDir: d.layersDir });
  let making: Promise<void> | undefined;
  const sandboxes = new PodSandboxes({
    containers: d.containers, records: d.records, sandboxImage: d.sandboxImage,
    ...(d.shmRoot ? { shm: new PodShm(d.shmRoot) } : {}),
    ensureImage: async (ref) => {
      if (d.images.tryResolve(ref)) return;
      // the default infra image is made offline (one build for pods started together); another name is pulled, as containerd's sandbox_image
      const offline = ref === DEFAULT_SANDBOX_IMAGE && await access(STATIC_BUSYBOX).then(() => true, () => false);
      if (!offline) {
        await images.pull(ref, {});
        return;
      }
      making ??= (async () => {
        await d.importImage(await pauseRootfs(), ref, PAUSE_CHANGES);
        d.log.info('CRI: made the pod infra image from the static busybox', { image: ref });
      })().finally(() => { making = undefined; });
      await making;
    },
  });
  const containers = new PodContainers({ containers: d.containers, reopenLog: d.reopenLog, execs: d.execs, killExec: d.killExec, records: d.records, sandboxes });
  const streams = new StreamServer({ containers: d.containers, execs: d.execs, log: d.log });
  await streams.listen();
  const socat = await access('/usr/bin/socat').then(() => '/usr/bin/socat', () => undefined);
  const streaming = new CriStreaming({ server: streams, containers, sandboxes, socat });
  const stats = new CriStats({ records: d.records, containers, sandboxes, sample: d.sample, writableLayer: d.writableLayer });
  const server = new CriServer({ sandboxes, containers, images, streaming, stats, runtimeVersion: d.runtimeVersion, log: d.log });
  try {
    await server.listen(d.socket);
  } catch (err) {
    await streams.close();
    throw err;
  }
  d.log.info('CRI endpoint listening', { socket: d.socket });
  return { close: async () => { await server.close(); await streams.close(); } };
}

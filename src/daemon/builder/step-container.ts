/**
 * A RUN step's container, owned by the builder: no container record, no
 * shim. The record `docker run` would make is made in memory only, so the
 * merge of the image config, the network, the volumes, the user and the
 * OCI spec are those of the container path (containers/create.ts, spec.ts,
 * the same ContainerEnvironment); the process then runs through a
 * builder-owned `runc run` (runtime/runc-run.ts) with its output streamed.
 *
 *   <step dir>/ctr/            a container directory (containers/rootfs.ts):
 *     init/ rw/diff rw/work    init layer, upper dir (the step's layer), overlay work dir
 *     merged/                  the rootfs mount
 *     hostname hosts resolv.conf
 *     config.json pid runc.log the bundle
 *
 * The step dir lives in the build's work dir under <data-root>/tmp, which
 * berthd sweeps (unmounts, removes) at start-up; runc's state under
 * `runcRoot` is swept then too, and the network sandbox goes with the
 * network service's reconcile (its id is no running container's).
 *
 *   const step = await steps.run(req, { dir, output, signal });
 *   try { if (step.exitCode === 0) layer = await step.capture(stubs); } finally { await step.remove(); }
 *
 * `remove` also waits for the network's release, which runs beside the capture.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerCreateRequest } from '../../api/types/index.js';
import type { OutputFifo } from '../../lib/exec.js';
import { newId } from '../../lib/ids.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import { span } from '../../lib/spans.js';
import type { Digest } from '../../oci/digest.js';
import { readRootfsFile } from '../containers/archive/rootfs-file.js';
import { newContainerRecord } from '../containers/create.js';
import { releasePrepared, type ContainerEnvironment, type PreparedEnvironment } from '../containers/environment.js';
import { containerPaths, overlayRootfs, prepareContainerDir } from '../containers/rootfs.js';
import type { ContainerSecurity } from '../containers/security/security.js';
import { buildSpec } from '../containers/spec.js';
import { resolveUser } from '../containers/user.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerInfo, LayerStore } from '../layers/layer-store.js';
import { runcRun } from '../runtime/runc-run.js';

export interface StepContainerDeps {
  images: Pick<ImageStore, 'resolve'>;
  layers: LayerStore;
  /** Volumes and networks, as for any container. */
  env: ContainerEnvironment;
  security?: Pick<ContainerSecurity, 'validateCreate' | 'prepare'>;
  cgroupParent: string;
  cgroupVersion: 1 | 2;
  /** runc's --root for build steps. */
  runcRoot: string;
  /** The init layer every container shares (rootfs.ts initLayerPath). */
  initLayer: string;
  /** FIFOs made ahead for the steps' output, taken into `fifoDir` (same filesystem). */
  fifos?: { take(paths: string[]): Promise<void> };
  fifoDir?: string;
  /** The upper dir's changes as a layer on `parent` (ContainerFilesystem.captureUpper). */
  captureUpper(upper: string, parent: Digest | undefined, stubs: string[], fifo?: OutputFifo): Promise<LayerInfo>;
  log: Logger;
}

export interface StepRun {
  /** The id the step's container ran under (`Running in <id>`). */
  id: string;
  exitCode: number;
  /** The step's changes as a layer; `stubs` are mount points to drop if left empty. */
  capture(stubs: string[]): Promise<LayerInfo>;
  /** Anonymous volumes of the step go (Docker removes a build's containers with their volumes). */
  remove(): Promise<void>;
}

export class StepContainers {
  constructor(private readonly d: StepContainerDeps) {}

  /** Runs the step's process to its exit; its container, mounts and network are gone when this resolves. */
  async run(req: ContainerCreateRequest, o: { dir: string; output(data: Buffer): void; started?(id: string): void; signal?: AbortSignal }): Promise<StepRun> {
    const image = this.d.images.resolve(req.Image!);
    const id = newId();
    const rec = newContainerRecord({
      id, name: `/build-${id.slice(0, 12)}`, request: req, imageId: image.id, imageConfig: image.config.config ?? {},
      cgroupVersion: this.d.cgroupVersion, ...(image.chainId ? { layer: image.chainId } : {}),
    });
    this.d.security?.validateCreate(rec.hostConfig);
    const paths = containerPaths(join(o.dir, 'ctr'), id, this.d.initLayer);
    const removeVolumes = () => this.d.env.remove(rec, { volumes: true });
    await this.d.env.create(rec, req);
    let mounted = false;
    let envReady: Promise<PreparedEnvironment> | undefined;
    let exitCode: number;
    try {
      await span('run: step dir', () => prepareContainerDir(paths));
      const security = await this.d.security?.prepare(rec, paths);
      const mounting = span('run: rootfs mount', () => overlayRootfs.mount(this.d.layers, paths, rec.layer, { volatile: true })).then(() => { mounted = true; });
      envReady = span('run: env prepare', () => this.d.env.prepare(rec, paths.merged, mounting));
      envReady.catch(() => {}); // awaited below; a mount failure surfaces first
      await mounting;
      const [passwd, group] = await Promise.all([readRootfsFile(paths.merged, '/etc/passwd'), readRootfsFile(paths.merged, '/etc/group')]);
      const user = resolveUser(rec.config.User, passwd, group, rec.hostConfig.GroupAdd ?? []);
      const env = await envReady;
      const spec = buildSpec({
        rec, user, rootfs: paths.merged,
        files: { hostname: paths.hostname, hosts: paths.hosts, resolvConf: paths.resolvConf },
        cgroupsPath: `${this.d.cgroupParent}/${id}`,
        cgroupVersion: this.d.cgroupVersion,
        userMounts: env.mounts,
        ...(env.netnsPath ? { netnsPath: env.netnsPath } : {}),
        ...(security ? { security } : {}),
      });
      // `runc run` creates and starts at once: the network is up first
      const net = await env.network;
      await Promise.all([
        writeFile(paths.hostname, `${rec.config.Hostname}\n`),
        writeFile(paths.hosts, net.hosts),
        writeFile(paths.resolvConf, net.resolvConf),
        writeFile(join(paths.dir, 'config.json'), JSON.stringify(spec)),
      ]);
      o.started?.(id);
      exitCode = await span('run: runc run', () => runcRun({
        root: this.d.runcRoot, id, bundle: paths.dir, output: o.output, ...(o.signal ? { signal: o.signal } : {}),
        ...(this.d.fifos && this.d.fifoDir ? { fifos: this.d.fifos, fifoPath: join(this.d.fifoDir, `out-${id}`) } : {}),
      }));
    } catch (err) {
      await Promise.all([this.release(rec, envReady), this.unmount(rec, paths, mounted)]);
      await removeVolumes().catch(cleanupFailed(this.d.log, 'remove the volumes of a build step', { id }));
      throw err;
    }
    // the network (a CNI DEL) goes while the layer is captured: the capture reads only the upper dir
    const released = this.release(rec, envReady);
    await this.unmount(rec, paths, mounted);
    return {
      id, exitCode,
      capture: (stubs) => span('run: capture layer', () => this.d.captureUpper(paths.upper, rec.layer, stubs, this.fifo(`tar-${id}`))),
      remove: async () => {
        await released;
        await removeVolumes();
      },
    };
  }

  /** A FIFO from the pool (tar's output in the capture), if there is one. */
  private fifo(name: string): OutputFifo | undefined {
    const { fifos, fifoDir } = this.d;
    return fifos && fifoDir ? { path: join(fifoDir, name), make: (path) => fifos.take([path]) } : undefined;
  }

  /** Network and volumes (runc removed the container itself); failures are logged, the step goes on. */
  private async release(rec: ReturnType<typeof newContainerRecord>, envReady: Promise<PreparedEnvironment> | undefined): Promise<void> {
    await span('run: env release', async () => envReady && releasePrepared(this.d.env, rec, envReady))
      .catch(cleanupFailed(this.d.log, 'release the network of a build step', { id: rec.id }));
  }

  private async unmount(rec: ReturnType<typeof newContainerRecord>, paths: ReturnType<typeof containerPaths>, mounted: boolean): Promise<void> {
    if (mounted) await span('run: rootfs unmount', () => overlayRootfs.unmount(paths)).catch(cleanupFailed(this.d.log, 'unmount a build step rootfs', { id: rec.id }));
  }
}

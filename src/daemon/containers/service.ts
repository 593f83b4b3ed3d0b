/**
 * What users do to containers: create, start, stop, kill, restart, pause,
 * rename, update, wait, remove, attach, prune. Validates each request
 * against the container's state under its lock, then lets the runner act.
 */
import type { ContainerCreateRequest, HostConfig, WaitCondition, WaitResponse } from '../../api/types/index.js';
import { Conflict, InvalidParameter, NotModified, SystemError } from '../../errdefs/index.js';
import { newId } from '../../lib/ids.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import { parseSignal } from '../../lib/signals.js';
import type { EventBus } from '../events/event-bus.js';
import type { ImageStore } from '../images/image-store.js';
import type { ContainerStore } from './container-store.js';
import { newContainerRecord, validateHostConfig } from './create.js';
import type { ContainerEnvironment } from './environment.js';
import { validateName, randomName } from './names.js';
import { eventAttributes, type ContainerRecord } from './record.js';
import { prepareContainerDir } from './rootfs.js';
import { SIGKILL, type ContainerRunner } from './runner.js';
import type { ContainerSecurity } from './security/security.js';
import { resources } from './spec.js';
import type { Attachment } from './streams.js';
import { directorySize } from '../../lib/disk-usage.js';
import { createdAfter, type Filters } from '../../api/filters.js';

export interface ContainerServiceDeps {
  store: ContainerStore;
  images: Pick<ImageStore, 'resolve'>;
  runner: ContainerRunner;
  events: EventBus;
  log: Logger;
  env: ContainerEnvironment;
  cgroupVersion: 1 | 2;
  /** Create-time checks that depend on the daemon's configuration (userns-remap, CPUs, init). */
  security?: Pick<ContainerSecurity, 'validateCreate'>;
  /** Pause stops a container's healthcheck, unpause resumes it. */
  health?: { stopped(rec: ContainerRecord): Promise<void>; resumed(rec: ContainerRecord): void };
}


/** HostConfig fields `docker update` may change (as moby's UpdateContainer: CgroupParent is not one, it is where the running cgroup is). */
const UPDATABLE = [
  'CpuShares', 'Memory', 'NanoCpus', 'BlkioWeight', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
  'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwap', 'KernelMemory', 'PidsLimit',
] as const;

export class ContainerService {
  constructor(private readonly d: ContainerServiceDeps) {}

  private get runner(): ContainerRunner {
    return this.d.runner;
  }

  /**
   * `managed`: a swarm task's container; `cri`: a pod sandbox's or a pod's container.
   * Never set from the Engine API (a label would be the client's to forge).
   */
  async create(req: ContainerCreateRequest, name?: string, o: { managed?: boolean; cri?: { logPath?: string } } = {}): Promise<{ Id: string; Warnings: string[] }> {
    if (!req.Image) throw new InvalidParameter('container.no_image', 'Config cannot be empty in order to create a container');
    const image = this.d.images.resolve(req.Image);
    const id = newId();
    const cname = name ? validateName(name) : randomName((n) => this.d.store.nameTaken(n));
    const rec = newContainerRecord({
      id, name: cname, request: req, imageId: image.id, imageConfig: image.config.config ?? {},
      cgroupVersion: this.d.cgroupVersion, ...(image.chainId ? { layer: image.chainId } : {}),
    });
    if (o.managed) rec.managed = true;
    if (o.cri) rec.cri = o.cri;
    this.d.security?.validateCreate(rec.hostConfig);
    this.d.store.reserveName(cname, id);
    try {
      await this.d.env.create(rec, req);
      await prepareContainerDir(this.runner.paths(id));
      await this.d.store.save(rec);
    } catch (err) {
      await this.d.env.remove(rec, { volumes: true }).catch(cleanupFailed(this.d.log, 'remove the volumes of a failed create', { id }));
      await this.d.store.delete(id).catch(cleanupFailed(this.d.log, 'remove a failed create', { id }));
      this.d.store.releaseName(cname, id);
      throw err;
    }
    this.d.events.publish('container', 'create', id, eventAttributes(rec));
    return { Id: id, Warnings: [] };
  }

  async start(ref: string): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, () => this.runner.startLocked(rec));
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, async () => {
      if (!rec.state.Running) throw new NotModified('container.not_running', 'container already stopped');
      rec.manuallyStopped = true;
      const timeout = opts.timeout ?? rec.config.StopTimeout ?? 10;
      await this.runner.stopTask(rec, parseSignal(opts.signal || rec.config.StopSignal || 'SIGTERM'), timeout);
    });
    this.d.events.publish('container', 'stop', rec.id, eventAttributes(rec));
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const rec = this.d.store.get(ref);
    const signal = parseSignal(signalName);
    await this.runner.lock.with(rec.id, async () => {
      if (rec.state.Restarting) throw new Conflict('container.restarting', `Container ${rec.id} is restarting, wait until the container is running`);
      this.runner.runningTask(rec, true);
      this.d.events.publish('container', 'kill', rec.id, eventAttributes(rec, { signal: String(signal) }));
      if (signal === SIGKILL) {
        rec.manuallyStopped = true;
        await this.runner.stopTask(rec, SIGKILL, 0);
      } else {
        await this.runner.withRunningTask(rec, (task) => task.kill(signal));
      }
    });
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, () => this.runner.restartLocked(rec, parseSignal(opts.signal || rec.config.StopSignal || 'SIGTERM'), opts.timeout ?? rec.config.StopTimeout ?? 10));
    this.d.events.publish('container', 'restart', rec.id, eventAttributes(rec));
  }

  async pause(ref: string): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, async () => {
      this.runner.runningTask(rec, true);
      if (rec.state.Paused) throw new Conflict('container.already_paused', `Container ${rec.id} is already paused`);
      // before the freeze: a probe killed inside a frozen cgroup could not die
      await this.d.health?.stopped(rec);
      try {
        await this.runner.withRunningTask(rec, (task) => task.pause());
      } catch (err) {
        this.d.health?.resumed(rec);
        throw err;
      }
      rec.state = { ...rec.state, Paused: true, Status: 'paused' };
      await this.d.store.save(rec);
    });
    this.d.events.publish('container', 'pause', rec.id, eventAttributes(rec));
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, async () => {
      this.runner.runningTask(rec, true);
      if (!rec.state.Paused) throw new Conflict('container.not_paused', `Container ${rec.id} is not paused`);
      await this.runner.withRunningTask(rec, (task) => task.resume());
      rec.state = { ...rec.state, Paused: false, Status: 'running' };
      this.d.health?.resumed(rec);
      await this.d.store.save(rec);
    });
    this.d.events.publish('container', 'unpause', rec.id, eventAttributes(rec));
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.d.store.get(ref);
    const name = validateName(newName);
    await this.runner.lock.with(rec.id, async () => {
      const old = rec.name;
      if (old === name) throw new InvalidParameter('container.rename_same', 'Renaming a container with the same name as its current name');
      this.d.store.reserveName(name, rec.id);
      rec.name = name;
      try {
        await this.d.store.save(rec);
      } catch (err) {
        rec.name = old;
        this.d.store.releaseName(name, rec.id);
        throw err;
      }
      this.d.store.releaseName(old, rec.id);
      this.d.events.publish('container', 'rename', rec.id, eventAttributes(rec, { oldName: `/${old}` }));
    });
  }

  /** `docker update`: resources (applied to the running process too) and the restart policy. */
  async update(ref: string, body: HostConfig): Promise<{ Warnings: string[] }> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, async () => {
      const next: HostConfig = { ...rec.hostConfig };
      for (const k of UPDATABLE) if (body[k] !== undefined && body[k] !== null && body[k] !== 0 && body[k] !== '') (next as Record<string, unknown>)[k] = body[k];
      if (body.RestartPolicy?.Name) next.RestartPolicy = body.RestartPolicy;
      if (body.Memory && !body.MemorySwap && next.MemorySwap && next.MemorySwap > 0 && next.MemorySwap < body.Memory) {
        throw new InvalidParameter('container.memory_swap', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
      }
      validateHostConfig(next);
      if (next.AutoRemove && next.RestartPolicy && next.RestartPolicy.Name !== 'no') {
        throw new InvalidParameter('container.autoremove_restart', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      if (rec.state.Running && !rec.state.Restarting) {
        await this.runner.withRunningTask(rec, (task) => task.update(resources(next)));
      }
      rec.hostConfig = next;
      await this.d.store.save(rec);
    });
    this.d.events.publish('container', 'update', rec.id, eventAttributes(rec));
    return { Warnings: [] };
  }

  /** Resolves when `condition` holds; `signal` abandons the wait (client went away). */
  async wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResponse> {
    const rec = this.d.store.get(ref);
    if (condition === 'not-running' && !rec.state.Running) return { StatusCode: rec.state.ExitCode, Error: null };
    const event = condition === 'removed' ? 'removed' : 'exit';
    const lifecycle = this.runner.lifecycle;
    return new Promise<WaitResponse>((resolve, reject) => {
      const onEvent = (id: string, code: number) => {
        if (id !== rec.id) return;
        cleanup();
        resolve({ StatusCode: code, Error: null });
      };
      const onAbort = () => {
        cleanup();
        reject(new SystemError('container.wait_cancelled', 'context canceled'));
      };
      const cleanup = () => {
        lifecycle.off(event, onEvent);
        signal?.removeEventListener('abort', onAbort);
      };
      lifecycle.on(event, onEvent);
      signal?.addEventListener('abort', onAbort);
    });
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.runner.lock.with(rec.id, async () => {
      if (rec.state.Running) {
        if (!opts.force) {
          const what = rec.state.Paused ? 'paused' : rec.state.Restarting ? 'restarting' : 'running';
          throw new Conflict('container.running', `You cannot remove a ${what} container ${rec.id}. Stop the container before attempting removal or force remove`);
        }
        rec.manuallyStopped = true;
        await this.runner.stopTask(rec, SIGKILL, 0);
      }
      await this.runner.removeLocked(rec, !!opts.volumes);
    });
  }

  /** `docker container prune`: removes stopped containers matching `until` / `label` filters. */
  async prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    filters.accept(['until', 'label', 'label!']);
    const until = filters.until();
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const rec of this.d.store.list()) {
      if (rec.state.Running) continue;
      if (createdAfter(rec.created, until) || !filters.labels(rec.config.Labels)) continue;
      const size = await directorySize(this.runner.paths(rec.id).upper).catch(() => 0);
      try {
        await this.remove(rec.id);
        deleted.push(rec.id);
        reclaimed += size;
      } catch (err) {
        this.d.log.warn('prune: removal failed', { id: rec.id, error: (err as Error).message });
      }
    }
    this.d.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /**
   * Connects a client to the container's stdio; returns the detach function.
   * `open` makes the attachment (for a route: answers the request). During an
   * exit that is being recorded it waits, as moby's container lock does, so
   * the client then sees a stopped container and gets the next run in full.
   */
  async attach(ref: string, open: () => Attachment): Promise<{ rec: ContainerRecord; detach: () => void }> {
    const rec = this.d.store.get(ref);
    const live = this.runner.live.get(rec.id);
    if (live.exiting) await live.exited;
    const detach = this.runner.live.get(rec.id).streams.attach(open());
    this.d.events.publish('container', 'attach', rec.id, eventAttributes(rec));
    return { rec, detach };
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const rec = this.d.store.get(ref);
    this.runner.runningTask(rec, true);
    if (!rec.config.Tty) return;
    await this.runner.withRunningTask(rec, (task) => task.resize(width, height));
    this.d.events.publish('container', 'resize', rec.id, eventAttributes(rec, { height: String(height), width: String(width) }));
  }
}

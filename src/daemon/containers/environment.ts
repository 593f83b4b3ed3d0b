/**
 * What a container gets from outside its image when it runs: volumes and
 * bind mounts, a network namespace, /etc/hosts and /etc/resolv.conf. The
 * container service calls these hooks at create, start, exit and removal;
 * the volume and network services implement them.
 *
 *   await env.create(rec, req);                // validate, create named volumes, fill rec.mounts
 *   const p = await env.prepare(rec, rootfs, mounted); // before the task: mounts, the netns
 *   ...the task is created...
 *   const files = await p.network;             // before the task starts: CNI done, hosts, resolv.conf
 *   ...task runs...
 *   await env.release(rec);                    // after exit: tear down the network
 *   await env.remove(rec, { volumes: true });  // rm -v: anonymous volumes go too
 */
import type { ContainerCreateRequest } from '../../api/types/index.js';
import type { SpecMount } from '../../oci/runtime-spec.js';
import type { ContainerRecord } from './record.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';

/** What describes a container's network inside it. */
export interface NetworkFiles {
  hosts: string;
  resolvConf: string;
}

export interface PreparedEnvironment {
  /** Volumes, binds and tmpfs mounts for the runtime spec, in the user's order. */
  mounts: SpecMount[];
  /** A network namespace to join (it exists); absent = a new one with only loopback (or the host's, for `host`). */
  netnsPath?: string;
  /**
   * The namespace's interfaces configured (CNI ADD, DNS rules): the runtime
   * may create the task meanwhile, which needs only the namespace; the task
   * starts once this resolves. On failure the network is already torn down.
   */
  network: Promise<NetworkFiles>;
}

/** A network namespace that exists, and the work still setting it up. */
export interface AttachedNetwork {
  netnsPath?: string;
  network: Promise<NetworkFiles>;
}

export interface ContainerEnvironment {
  /** `req` is the create request as sent (for what the record does not keep, e.g. NetworkingConfig). */
  create(rec: ContainerRecord, req?: ContainerCreateRequest): Promise<void>;
  /** Network work starts at once; work on the rootfs waits for `rootfsReady` (it is being mounted). Resolves once the spec's inputs exist. */
  prepare(rec: ContainerRecord, rootfs: string, rootfsReady: Promise<void>): Promise<PreparedEnvironment>;
  release(rec: ContainerRecord): Promise<void>;
  remove(rec: ContainerRecord, opts: { volumes: boolean }): Promise<void>;
}

/**
 * Releases what `prepare` set up, after a network still coming up has
 * settled (a failed one has torn itself down; a failed `prepare` left nothing).
 */
export async function releasePrepared(env: ContainerEnvironment, rec: ContainerRecord, prepared: Promise<PreparedEnvironment>): Promise<void> {
  const p = await prepared.catch(() => undefined);
  if (!p) return;
  await p.network.catch(() => {});
  await env.release(rec);
}

/** The hooks as the volume and network services implement them. */
export interface VolumeHooks {
  attach(rec: ContainerRecord): Promise<void>;
  mount(rec: ContainerRecord, rootfs: string): Promise<SpecMount[]>;
  unmount(rec: ContainerRecord): Promise<void>;
  detach(rec: ContainerRecord, removeAnonymous: boolean): Promise<void>;
}

export interface NetworkHooks {
  plan(rec: ContainerRecord, endpointsConfig: NonNullable<ContainerCreateRequest['NetworkingConfig']>['EndpointsConfig']): Promise<void>;
  attach(rec: ContainerRecord): Promise<AttachedNetwork>;
  detach(rec: ContainerRecord): Promise<void>;
}

/**
 * Volumes and networks together: networks are checked before volumes are
 * created (a bad network leaves no volume behind), and a network that
 * fails to come up releases the volumes' mounts again.
 */
export class ServicesEnvironment implements ContainerEnvironment {
  constructor(private readonly volumes: VolumeHooks, private readonly networks: NetworkHooks, private readonly log?: Logger) {}

  async create(rec: ContainerRecord, req?: ContainerCreateRequest): Promise<void> {
    await this.networks.plan(rec, req?.NetworkingConfig?.EndpointsConfig);
    await this.volumes.attach(rec);
  }

  async prepare(rec: ContainerRecord, rootfs: string, rootfsReady: Promise<void>): Promise<PreparedEnvironment> {
    // the network comes up while the rootfs is mounted and volumes are filled
    const [mounts, net] = await Promise.allSettled([rootfsReady.then(() => this.volumes.mount(rec, rootfs)), this.networks.attach(rec)]);
    if (mounts.status === 'fulfilled' && net.status === 'fulfilled') {
      const n = net.value;
      return { mounts: mounts.value, network: n.network, ...(n.netnsPath ? { netnsPath: n.netnsPath } : {}) };
    }
    if (mounts.status === 'fulfilled') await this.volumes.unmount(rec).catch(cleanupFailed(this.log, 'unmount the volumes of a failed start', { id: rec.id }));
    if (net.status === 'fulfilled') {
      // a failed setup tears itself down; one still running is let finish first
      if (await net.value.network.then(() => true, () => false)) {
        await this.networks.detach(rec).catch(cleanupFailed(this.log, 'detach the networks of a failed start', { id: rec.id }));
      }
    }
    throw mounts.status === 'rejected' ? mounts.reason : (net as PromiseRejectedResult).reason;
  }

  async release(rec: ContainerRecord): Promise<void> {
    try {
      await this.networks.detach(rec);
    } finally {
      await this.volumes.unmount(rec);
    }
  }

  async remove(rec: ContainerRecord, opts: { volumes: boolean }): Promise<void> {
    await this.volumes.detach(rec, opts.volumes);
  }
}

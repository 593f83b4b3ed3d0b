/**
 * What a container gets from outside its image when it runs: volumes and
 * bind mounts, a network namespace, /etc/hosts and /etc/resolv.conf. The
 * container service calls these hooks at create, start, exit and removal;
 * the volume and network services implement them.
 *
 *   await env.create(rec);                     // validate, create named volumes, fill rec.mounts
 *   const p = await env.prepare(rec, rootfs);  // before the task: mounts, netns, hosts, resolv.conf
 *   ...task runs...
 *   await env.release(rec);                    // after exit: tear down the network
 *   await env.remove(rec, { volumes: true });  // rm -v: anonymous volumes go too
 */
import { InvalidParameter } from '../../errdefs/index.js';
import type { SpecMount } from '../../oci/runtime-spec.js';
import type { ContainerRecord } from './record.js';
import { containerResolvConf, hostsFile } from './rootfs.js';

export interface PreparedEnvironment {
  /** Volumes, binds and tmpfs mounts for the runtime spec, in the user's order. */
  mounts: SpecMount[];
  /** A network namespace to join; absent = a new one with only loopback (or the host's, for `host`). */
  netnsPath?: string;
  hosts: string;
  resolvConf: string;
}

export interface ContainerEnvironment {
  create(rec: ContainerRecord): Promise<void>;
  prepare(rec: ContainerRecord, rootfs: string): Promise<PreparedEnvironment>;
  release(rec: ContainerRecord): Promise<void>;
  remove(rec: ContainerRecord, opts: { volumes: boolean }): Promise<void>;
}

/** No volumes, no networks: a private network namespace with loopback only. */
export class IsolatedEnvironment implements ContainerEnvironment {
  async create(rec: ContainerRecord): Promise<void> {
    const hc = rec.hostConfig;
    if (hc.Binds?.length || hc.Mounts?.length || hc.VolumesFrom?.length || Object.keys(hc.Tmpfs ?? {}).length) {
      throw new InvalidParameter('container.volumes_unsupported', 'volumes and bind mounts are not supported yet');
    }
  }

  async prepare(rec: ContainerRecord): Promise<PreparedEnvironment> {
    return { mounts: [], hosts: hostsFile(rec.config.Hostname), resolvConf: await containerResolvConf() };
  }

  async release(): Promise<void> {}

  async remove(): Promise<void> {}
}

/**
 * Swarm mode (the cluster code, the etcd client, overlay networks) loads
 * when this node is in a swarm, or on the first swarm request: a daemon
 * outside a swarm reads one missing file at boot and answers `/info` and
 * `/_ping` from here (issue 18: idle memory).
 *
 *   boot():   <data-root>/swarm/state.json or an overlay network on this host -> load now
 *   settle(): after the sandboxes are reconciled, overlay networks follow the membership
 *   a swarm, node, service, task, secret or config request -> load, then answer
 */
import { join } from 'node:path';
import type { SwarmInfoView } from '../../api/types/index.js';
import { inactiveSwarmInfo, readSwarmState } from '../cluster/swarm-state.js';
import type { NodesBackend, SwarmBackend } from '../server/routes/swarm/backend.js';
import type { ServiceLogsBackend, ServicesBackend } from '../server/routes/services/backend.js';
import type { ConfigsBackend, SecretsBackend } from '../server/routes/secrets/backend.js';
import type { SwarmMode, SwarmModeDeps } from '../wire-swarm.js';
import { deferred, noteLoaded, once } from './once.js';

export class LazySwarm {
  private mode: SwarmMode | undefined;
  private settled = false;
  private readonly load: () => Promise<SwarmMode>;

  constructor(private readonly d: SwarmModeDeps) {
    this.load = once(async () => {
      const wiring = await import('../wire-swarm.js');
      noteLoaded('swarm');
      const m = await wiring.startSwarmMode(this.d);
      // loaded after boot: the sandboxes settled long ago
      if (this.settled) await wiring.followMembership(m);
      this.mode = m;
      return m;
    });
  }

  /** At daemon start: loads swarm mode now if this node is in a swarm or still has overlay networks to tear down. */
  async boot(): Promise<void> {
    const state = await readSwarmState(join(this.d.dataRoot, 'swarm'));
    if (state || this.d.networks.overlays().length) await this.load();
  }

  /** After the sandboxes are reconciled (daemon start). */
  async settle(): Promise<void> {
    this.settled = true;
    if (this.mode) await (await import('../wire-swarm.js')).followMembership(this.mode);
  }

  private swarm = async () => (await this.load()).swarm;

  readonly api: SwarmBackend = deferred<SwarmBackend>(this.swarm, { init: true, join: true, inspect: true, update: true, unlockKey: true, leave: true });
  readonly nodes: NodesBackend = deferred<NodesBackend>(async () => (await this.swarm()).nodes, { listNodes: true, inspectNode: true, updateNode: true, removeNode: true });
  readonly services: ServicesBackend = deferred<ServicesBackend>(async () => (await this.swarm()).services, {
    createService: true, listServices: true, inspectService: true, updateService: true, removeService: true, listTasks: true, inspectTask: true,
  });
  readonly serviceLogs: ServiceLogsBackend = deferred<ServiceLogsBackend>(this.swarm, { serviceLogs: true });
  readonly secrets: SecretsBackend = deferred<SecretsBackend>(async () => (await this.swarm()).secrets, { list: true, inspect: true, create: true, update: true, remove: true });
  readonly configs: ConfigsBackend = deferred<ConfigsBackend>(async () => (await this.swarm()).configs, { list: true, inspect: true, create: true, update: true, remove: true });

  /** The `Swarm` block of `GET /info`. */
  info(): Promise<SwarmInfoView> {
    return this.mode ? this.mode.swarm.info() : Promise.resolve(inactiveSwarmInfo());
  }

  /** The `Swarm` header of `/_ping`. */
  pingState(): string {
    return this.mode ? this.mode.swarm.pingState() : 'inactive';
  }

  /** Daemon stop: the overlay watch ends; without live-restore the overlay devices go too. */
  async stopOverlay(liveRestore: boolean): Promise<void> {
    if (!this.mode) return;
    if (liveRestore) this.mode.overlay.stop();
    else await this.mode.overlay.shutdown();
  }

  /** Daemon stop: etcd keeps running, the node's lease is left to expire. */
  async shutdown(): Promise<void> {
    await this.mode?.swarm.shutdown();
  }
}

/**
 * What runs services on this node while it is in a swarm: the task agent
 * (every node), on a manager the swarm's events, and on the manager that
 * leads, the reconciler. Opened with
 * the swarm session and closed before it; the reconciler follows
 * leadership (started when this manager wins, stopped when it loses).
 */
import type { Leadership } from './leader-election.js';
import { ClusterEvents, type PublishClusterEvent } from './cluster-events.js';
import { Reconciler } from './reconciler.js';
import type { ClusterStore } from './store.js';
import { TaskAgent, type TaskContainers } from './task-agent.js';

export class SwarmWorkloads {
  private agent: TaskAgent | undefined;
  private reconciler: Reconciler | undefined;
  private events: ClusterEvents | undefined;
  private unfollow: (() => void) | undefined;

  constructor(
    private readonly containers: TaskContainers | undefined,
    private readonly leadership: Leadership,
    private readonly log: (msg: string, f?: Record<string, unknown>) => void,
    private readonly publishEvent?: PublishClusterEvent,
  ) {}

  open(store: ClusterStore, nodeId: string, role: 'manager' | 'worker'): void {
    if (this.containers) {
      this.agent = new TaskAgent(store, nodeId, this.containers, { log: this.log });
      this.agent.start();
    }
    if (role !== 'manager') return;
    if (this.publishEvent) {
      this.events = new ClusterEvents(store, this.publishEvent, this.log);
      this.events.start();
    }
    const reconciler = new Reconciler(store, { log: this.log });
    this.reconciler = reconciler;
    const follow = (leading: boolean) => {
      if (leading) {
        this.log('orchestrator: leading, reconciling services');
        reconciler.start();
      } else void reconciler.stop().then(() => this.log('orchestrator: stepped down'));
    };
    this.unfollow = this.leadership.onChange(follow);
    if (this.leadership.isLeader) follow(true);
  }

  /**
   * `swarm leave`, once closed: the tasks' containers go with the swarm (as
   * dockerd's executor removes them, forced), and their secret files.
   */
  async removeTaskContainers(): Promise<void> {
    const containers = this.containers;
    if (!containers) return;
    await Promise.all(containers.list().map(async (c) => {
      try {
        await containers.remove(c.id);
        await containers.cleanupFiles?.(c.taskId);
      } catch (err) {
        this.log('swarm: could not remove a task container on leave', { container: c.id, error: (err as Error).message });
      }
    }));
  }

  async close(): Promise<void> {
    this.unfollow?.();
    this.unfollow = undefined;
    await this.reconciler?.stop();
    this.reconciler = undefined;
    await this.events?.stop();
    this.events = undefined;
    await this.agent?.stop();
    this.agent = undefined;
  }
}

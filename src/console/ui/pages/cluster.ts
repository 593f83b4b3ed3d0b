/**
 * Cluster (when the engine is a swarm manager): nodes with state,
 * availability and role; services with running/desired replicas and the
 * nodes their tasks run on (each links to its page, service.ts: task history
 * and logs); the task history. Read again on swarm and
 * container events (a task is a container on some node), and every few
 * seconds while shown (see below).
 */
import { api } from '../api.js';
import { h, notify, replace, type Page } from '../dom.js';
import { subscribe } from '../events.js';

export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string };
  Spec: { Role: string; Availability: string };
  Status: { State: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

export interface Service {
  ID: string;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: {
    Name: string;
    Mode: { Replicated?: { Replicas?: number }; Global?: object };
    TaskTemplate: { ContainerSpec?: { Image?: string; Args?: string[]; Command?: string[]; TTY?: boolean } };
  };
}

export interface Task {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  CreatedAt: string;
  UpdatedAt?: string;
  Status: { State: string; Message?: string; Err?: string; Timestamp?: string; ContainerStatus?: { ExitCode?: number } };
}

/**
 * Each node's name for the page: its hostname, or hostname and ID when two
 * nodes share one (machines cloned from one image).
 */
export function nodeNames(nodes: SwarmNode[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const n of nodes) count.set(n.Description?.Hostname ?? '', (count.get(n.Description?.Hostname ?? '') ?? 0) + 1);
  return new Map(nodes.map((n) => {
    const host = n.Description?.Hostname;
    return [n.ID, host && count.get(host) === 1 ? host : `${host ?? ''} (${n.ID.slice(0, 12)})`.trim()];
  }));
}

/** `web.2`, as `docker service ps` names a replicated task (a global one by its node). */
export function taskName(t: Task, serviceName: string): string {
  return `${serviceName}${t.Slot ? `.${t.Slot}` : ''}`;
}

const SWARM_REFRESH_MS = 5000;

/**
 * Keeps a swarm page current: `load` once the event stream is open, again
 * soon after service, node and container events (one read for a burst), and
 * every 5 s, since the engine has no task events (neither has dockerd) and a
 * task that changes on a worker makes none on this manager. `soon` asks for
 * a read from elsewhere (a log line of a task not read yet).
 */
export function followSwarm(load: () => Promise<void>): { soon: () => void; dispose: () => void } {
  let scheduled: ReturnType<typeof setTimeout> | undefined;
  const soon = () => {
    if (scheduled !== undefined) return;
    scheduled = setTimeout(() => {
      scheduled = undefined;
      void load();
    }, 150);
  };
  const sub = subscribe((e) => {
    if (['service', 'node', 'container'].includes(e.Type)) soon();
  });
  void sub.ready.then(load);
  const timer = setInterval(() => void load(), SWARM_REFRESH_MS);
  return {
    soon,
    dispose: () => {
      clearTimeout(scheduled);
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}

const table = (id: string, caption: string, columns: string[], body: HTMLTableSectionElement) =>
  h('table', { class: 'list', id },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    body);

export function clusterPage(): Page {
  const nodesBody = h('tbody');
  const servicesBody = h('tbody');
  const tasksBody = h('tbody');
  const state = h('p', { role: 'status' });
  const load = async () => {
    try {
      const info = await api<{ Swarm?: { ControlAvailable?: boolean; LocalNodeState?: string } }>('GET', '/info');
      if (!info.Swarm?.ControlAvailable) {
        state.textContent = `This engine is not a swarm manager (swarm: ${info.Swarm?.LocalNodeState || 'inactive'}).`;
        return;
      }
      state.textContent = '';
      const [nodes, services, tasks] = await Promise.all([
        api<SwarmNode[]>('GET', '/nodes'), api<Service[]>('GET', '/services'), api<Task[]>('GET', '/tasks'),
      ]);
      const hostOf = nodeNames(nodes);
      replace(nodesBody, nodes.sort((a, b) => hostOf.get(a.ID)!.localeCompare(hostOf.get(b.ID)!)).map((n) => h('tr', { 'data-node': n.ID },
        h('th', { scope: 'row' }, hostOf.get(n.ID)!),
        h('td', {}, n.Status.State),
        h('td', {}, n.Spec.Availability),
        h('td', {}, n.Spec.Role),
        h('td', {}, n.ManagerStatus ? (n.ManagerStatus.Leader ? 'Leader' : n.ManagerStatus.Reachability ?? '') : ''),
        h('td', {}, n.Status.Addr ?? ''),
      )));
      replace(servicesBody, services.sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name)).map((s) => {
        const mine = tasks.filter((t) => t.ServiceID === s.ID);
        const running = mine.filter((t) => t.Status.State === 'running');
        const desired = s.Spec.Mode.Replicated ? String(s.Spec.Mode.Replicated.Replicas ?? 0) : `${mine.filter((t) => t.DesiredState === 'running').length} (global)`;
        const where = new Map<string, number>();
        for (const t of running) where.set(hostOf.get(t.NodeID ?? '') ?? '?', (where.get(hostOf.get(t.NodeID ?? '') ?? '?') ?? 0) + 1);
        return h('tr', { 'data-service': s.Spec.Name },
          h('th', { scope: 'row' }, h('a', { href: `#/cluster/services/${encodeURIComponent(s.ID)}` }, s.Spec.Name)),
          h('td', {}, s.Spec.TaskTemplate.ContainerSpec?.Image?.split('@')[0] ?? ''),
          h('td', { class: 'replicas' }, `${running.length}/${desired}`),
          h('td', {}, [...where].map(([host, n]) => `${host} ×${n}`).join(', ')));
      }));
      const nameOf = new Map(services.map((s) => [s.ID, s.Spec.Name]));
      replace(tasksBody, tasks.sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt)).slice(0, 200).map((t) => h('tr', {},
        h('th', { scope: 'row' }, taskName(t, nameOf.get(t.ServiceID) ?? t.ServiceID.slice(0, 12))),
        h('td', {}, hostOf.get(t.NodeID ?? '') ?? ''),
        h('td', {}, t.DesiredState),
        h('td', {}, t.Status.State),
        h('td', {}, t.Status.Err ?? t.Status.Message ?? ''),
        h('td', {}, t.CreatedAt),
      )));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  const follow = followSwarm(load);
  const el = h('section', { 'aria-labelledby': 'cluster-title' },
    h('h1', { id: 'cluster-title' }, 'Cluster'),
    state,
    h('h2', {}, 'Nodes'),
    table('nodes', 'Swarm nodes', ['Hostname', 'State', 'Availability', 'Role', 'Manager', 'Address'], nodesBody),
    h('h2', {}, 'Services'),
    table('services', 'Swarm services', ['Name', 'Image', 'Replicas', 'Running on'], servicesBody),
    h('h2', {}, 'Tasks'),
    table('tasks', 'Swarm tasks, newest first', ['Task', 'Node', 'Desired', 'State', 'Message', 'Created'], tasksBody),
    h('p', {}, h('button', { type: 'button', onclick: () => void load() }, 'Refresh')));
  return { el, dispose: follow.dispose };
}

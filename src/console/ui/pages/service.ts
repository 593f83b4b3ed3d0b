/**
 * One swarm service (`#/cluster/services/<id>`): its facts, its task history
 * (every task the manager still keeps, shut-down and failed ones included:
 * state, desired state, node, error, timestamps) and its logs, streamed from
 * `GET /services/{id}/logs` with the logs view containers use. Each log line
 * names its task and node, as `docker service logs` does.
 */
import { api, query } from '../api.js';
import { h, notify, replace, type Page } from '../dom.js';
import { followSwarm, nodeNames, taskName, type Service, type SwarmNode, type Task } from './cluster.js';
import { logsView } from './logs-view.js';
import { facts } from './resources.js';

const TASK_ID_ATTR = 'com.docker.swarm.task.id=';

/**
 * A line of `details=1` logs is `[timestamp ]k=v,k=v message`; the attributes
 * become `web.1@node |`, the CLI's prefix.
 */
export function labelServiceLine(text: string, timestamps: boolean, taskLabel: (taskId: string) => string): string {
  let ts = '';
  let rest = text;
  if (timestamps) {
    const sp = rest.indexOf(' ');
    if (sp === -1) return text;
    ts = rest.slice(0, sp + 1);
    rest = rest.slice(sp + 1);
  }
  const sp = rest.indexOf(' ');
  const attrs = sp === -1 ? rest : rest.slice(0, sp);
  if (!attrs.includes('=')) return text;
  const task = attrs.split(',').find((a) => a.startsWith(TASK_ID_ATTR))?.slice(TASK_ID_ATTR.length);
  return `${ts}${task ? taskLabel(task) : '?'} | ${sp === -1 ? '' : rest.slice(sp + 1)}`;
}

export function servicePage(id: string): Page {
  const title = h('h1', { id: 'service-title' }, id.slice(0, 12));
  const details = h('div');
  const tasksBody = h('tbody');
  const logsBox = h('div');
  const labels = new Map<string, string>();
  let logs: ReturnType<typeof logsView> | undefined;
  const load = async () => {
    try {
      const [s, tasks, nodes] = await Promise.all([
        api<Service>('GET', `/services/${encodeURIComponent(id)}`),
        api<Task[]>('GET', `/tasks${query({ filters: JSON.stringify({ service: [id] }) })}`),
        api<SwarmNode[]>('GET', '/nodes'),
      ]);
      const name = s.Spec.Name;
      title.textContent = name;
      const hostOf = nodeNames(nodes);
      const spec = s.Spec.TaskTemplate.ContainerSpec ?? {};
      const running = tasks.filter((t) => t.Status.State === 'running').length;
      replace(details, facts('service-facts', [
        ['ID', s.ID], ['Image', spec.Image?.split('@')[0] ?? ''],
        ['Command', [...(spec.Command ?? []), ...(spec.Args ?? [])].join(' ')],
        ['Mode', s.Spec.Mode.Global ? 'global' : `replicated, ${s.Spec.Mode.Replicated?.Replicas ?? 0} replicas`],
        ['Running', String(running)], ['Created', s.CreatedAt ?? ''], ['Updated', s.UpdatedAt ?? ''],
      ]), h('details', {}, h('summary', {}, 'Inspect (JSON)'), h('pre', { class: 'json' }, JSON.stringify(s, null, 2))));
      for (const t of tasks) labels.set(t.ID, `${taskName(t, name)}.${t.ID.slice(0, 12)}@${hostOf.get(t.NodeID ?? '') ?? '?'}`);
      // newest first, as `docker service ps` lists a slot's history
      replace(tasksBody, tasks.sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt)).map((t) => h('tr', { 'data-task': t.ID, 'data-state': t.Status.State },
        h('th', { scope: 'row' }, taskName(t, name)),
        h('td', {}, h('code', {}, t.ID.slice(0, 12))),
        h('td', {}, hostOf.get(t.NodeID ?? '') ?? ''),
        h('td', {}, t.DesiredState),
        h('td', {}, h('span', { class: `state state-${t.Status.State}` }, t.Status.State)),
        h('td', {}, t.Status.Err ?? ''),
        h('td', {}, t.Status.ContainerStatus?.ExitCode !== undefined && t.Status.State !== 'running' ? String(t.Status.ContainerStatus.ExitCode) : ''),
        h('td', {}, t.CreatedAt),
        h('td', {}, t.Status.Timestamp ?? t.UpdatedAt ?? ''),
      )));
      if (!logs) {
        logs = logsView({
          path: `/services/${encodeURIComponent(s.ID)}/logs`,
          tty: !!spec.TTY,
          query: { details: true },
          line: (text, timestamps) => labelServiceLine(text, timestamps, (task) => {
            const known = labels.get(task);
            if (known) return known;
            // a task newer than the last read (an update, a restart): read again to name its next lines
            follow.soon();
            return task.slice(0, 12);
          }),
        });
        logsBox.append(logs.el);
      }
      notify('');
    } catch (err) {
      notify((err as Error).message);
    }
  };
  const follow = followSwarm(load);
  const el = h('section', { 'aria-labelledby': 'service-title' },
    h('p', {}, h('a', { href: '#/cluster' }, '← Cluster')),
    title,
    details,
    h('h2', { id: 'service-tasks-title' }, 'Task history'),
    h('table', { class: 'list', id: 'service-tasks', 'aria-labelledby': 'service-tasks-title' },
      h('thead', {}, h('tr', {}, ['Task', 'ID', 'Node', 'Desired', 'State', 'Error', 'Exit', 'Created', 'Last change'].map((c) => h('th', { scope: 'col' }, c)))),
      tasksBody),
    logsBox);
  return {
    el,
    dispose: () => {
      follow.dispose();
      logs?.dispose();
    },
  };
}

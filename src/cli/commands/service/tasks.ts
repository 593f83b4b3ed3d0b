/**
 * The task table `service ps` and `node ps` share (docker's task formatter):
 * tasks ordered by service and slot, newest first within a slot, the older
 * ones named ` \_ name`; states capitalised with how long ago they began.
 */
import type { NodeView, ServiceView, TaskView } from '../../../api/types/index.js';
import { humanDuration } from '../../../lib/units.js';
import { renderList } from '../../format/formatter.js';

export const TASK_HEADERS = { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' };
const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}';

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** An image reference without its pinned digest, as docker shows it unless --no-trunc. */
export function imageWithoutDigest(image: string): string {
  const at = image.indexOf('@');
  return at === -1 ? image : image.slice(0, at);
}

export interface TaskTableOptions {
  format?: string;
  quiet?: boolean;
  trunc: boolean;
  now?: number;
}

export function renderTasks(tasks: TaskView[], services: Map<string, ServiceView>, nodes: Map<string, NodeView>, o: TaskTableOptions): string {
  const now = o.now ?? Date.now();
  const trunc = o.trunc && !o.quiet; // docker's -q prints whole task IDs
  const indent = !o.format || o.format === 'table'; // a custom --format gets the bare names
  const name = (t: TaskView) => {
    const svc = services.get(t.ServiceID)?.Spec.Name ?? t.ServiceID;
    return `${svc}.${t.Slot ? t.Slot : t.NodeID ?? ''}`;
  };
  // docker's tasksSortable: names in natural order (web.2 before web.10), the newest first within a name
  const sorted = [...tasks].sort((a, b) => name(a).localeCompare(name(b), 'en', { numeric: true }) || Date.parse(b.CreatedAt) - Date.parse(a.CreatedAt));
  let previous = '';
  const rows = sorted.map((t) => {
    const n = name(t);
    const shown = n === previous && indent ? ` \\_ ${n}` : n;
    previous = n;
    const image = t.Spec.ContainerSpec?.Image ?? '';
    const err = t.Status.Err ?? '';
    return {
      ID: trunc ? t.ID.slice(0, 12) : t.ID,
      Name: shown,
      Image: trunc ? imageWithoutDigest(image) : image,
      Node: (t.NodeID && nodes.get(t.NodeID)?.Description.Hostname) ?? t.NodeID ?? '',
      DesiredState: capitalise(t.DesiredState),
      CurrentState: `${capitalise(t.Status.State)} ${humanDuration(now - Date.parse(t.Status.Timestamp)).toLowerCase()} ago`,
      Error: err ? `"${trunc && err.length > 30 ? err.slice(0, 29) + '…' : err}"` : '',
      Ports: '',
    };
  });
  return renderList({ format: o.format, quiet: o.quiet, defaultFormat: DEFAULT_FORMAT, headers: TASK_HEADERS, rows, typeName: '*formatter.taskContext' });
}

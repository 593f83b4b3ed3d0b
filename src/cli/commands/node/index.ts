/** `berth node ls|inspect|update|promote|demote|rm|ps` (docker node's flags and output). */
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { NodeSpec, NodeView, ServiceView, SwarmInfoView, TaskView } from '../../../api/types/index.js';
import type { EngineClient } from '../../../client/engine-client.js';
import { bytesSize } from '../../../lib/units.js';
import { collect, ExitError, keyValues, type CliContext } from '../../context.js';
import { forEachRef, inspectEach } from '../../each.js';
import { renderList } from '../../format/formatter.js';
import { renderTasks } from '../service/tasks.js';

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** docker's node formatter: Status, Availability and Manager Status as words. */
export function nodeRow(n: NodeView, self: string) {
  const ms = n.ManagerStatus;
  return {
    ID: n.ID, Self: n.ID === self, Hostname: n.Description.Hostname,
    Status: capitalise(n.Status.State), Availability: capitalise(n.Spec.Availability ?? ''),
    ManagerStatus: ms ? (ms.Leader ? 'Leader' : capitalise(ms.Reachability)) : '',
    EngineVersion: n.Description.Engine.EngineVersion, TLSStatus: 'Ready',
  };
}

export const NODE_HEADERS = { ID: 'ID', Self: '', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION', TLSStatus: 'TLS STATUS' };
export const NODE_FORMAT = 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}';

/** Go's time.Time String() of an RFC 3339 UTC time, through docker's PrettyPrint (first letter up, the rest down). */
export function prettyTime(rfc3339: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 utc`;
}

/** docker's `node inspect --pretty`: its template's literal tabs and spaces, no tabwriter. */
export function prettyNode(n: NodeView): string {
  const lines: string[] = [`ID:\t\t\t${n.ID}`];
  if (n.Spec.Name) lines.push(`Name:\t\t\t${n.Spec.Name}`);
  const labels = Object.entries(n.Spec.Labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (labels.length) lines.push('Labels:', ...labels.map(([k, v]) => ` - ${k}${v ? `=${v}` : ''}`));
  lines.push(`Hostname:              \t${n.Description.Hostname}`, `Joined at:             \t${prettyTime(n.CreatedAt)}`, 'Status:', ` State:\t\t\t${capitalise(n.Status.State)}`);
  if (n.Status.Message) lines.push(` Message:              \t${capitalise(n.Status.Message)}`);
  lines.push(` Availability:         \t${capitalise(n.Spec.Availability ?? '')}`);
  if (n.Status.Addr) lines.push(` Address:\t\t${n.Status.Addr}`);
  if (n.ManagerStatus) {
    lines.push('Manager Status:', ` Address:\t\t${n.ManagerStatus.Addr}`, ` Raft Status:\t\t${capitalise(n.ManagerStatus.Reachability)}`, ` Leader:\t\t${n.ManagerStatus.Leader ? 'Yes' : 'No'}`);
  }
  const d = n.Description;
  lines.push('Platform:', ` Operating System:\t${d.Platform.OS}`, ` Architecture:\t\t${d.Platform.Architecture}`,
    'Resources:', ` CPUs:\t\t\t${d.Resources.NanoCPUs / 1e9}`, ` Memory:\t\t${bytesSize(d.Resources.MemoryBytes)}`);
  const plugins = new Map<string, string[]>();
  for (const p of d.Engine.Plugins ?? []) plugins.set(p.Type, [...(plugins.get(p.Type) ?? []), p.Name]);
  if (plugins.size) {
    lines.push('Plugins:');
    for (const [type, names] of [...plugins].sort(([a], [b]) => a.localeCompare(b))) lines.push(` ${type}:\t\t${names.sort().join(', ')}`);
  }
  lines.push(`Engine Version:\t\t${d.Engine.EngineVersion}`);
  const engineLabels = Object.entries(d.Engine.Labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (engineLabels.length) lines.push('Engine Labels:', ...engineLabels.map(([k, v]) => ` - ${k}=${v}`));
  if (d.TLSInfo?.TrustRoot) {
    lines.push('TLS Info:', ' TrustRoot:', d.TLSInfo.TrustRoot, ` Issuer Subject:\t${d.TLSInfo.CertIssuerSubject}`, ` Issuer Public Key:\t${d.TLSInfo.CertIssuerPublicKey}`);
  }
  return lines.join('\n') + '\n';
}

async function selfId(c: EngineClient): Promise<string> {
  return (await c.get<{ Swarm: SwarmInfoView }>('/info')).Swarm.NodeID;
}

/** `self` names this node, as docker resolves it. */
async function nodeRef(c: EngineClient, ref: string): Promise<string> {
  return ref === 'self' ? selfId(c) : ref;
}

/** docker's updateNodes: read the node for its version, change the spec, write it back. */
async function updateNode(c: EngineClient, ref: string, change: (spec: NodeSpec, node: NodeView) => void): Promise<void> {
  const node = await c.get<NodeView>(`/nodes/${encodeURIComponent(await nodeRef(c, ref))}`);
  const spec: NodeSpec = { ...node.Spec, Labels: { ...(node.Spec.Labels ?? {}) } };
  change(spec, node);
  await c.post(`/nodes/${encodeURIComponent(node.ID)}/update`, { query: { version: node.Version.Index }, body: spec });
}

/** An error raised in `change` that docker prints as a note rather than a failure. */
class AlreadyDone extends Error {}

export function nodeCommands(ctx: CliContext): Command[] {
  const ls = new Command('ls').alias('list')
    .description('List nodes in the swarm')
    .option('-q, --quiet', 'Only display IDs')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { quiet?: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const nodes = await c.get<NodeView[]>('/nodes', { filters: Filters.fromFlags(o.filter).toQuery() });
      const self = await selfId(c);
      nodes.sort((a, b) => a.Description.Hostname.localeCompare(b.Description.Hostname, undefined, { numeric: true }));
      ctx.out.write(renderList({
        format: o.format, quiet: o.quiet, defaultFormat: NODE_FORMAT, headers: NODE_HEADERS,
        rows: nodes.map((n) => nodeRow(n, self)), typeName: '*formatter.nodeContext',
      }));
    });

  const inspect = new Command('inspect')
    .description('Display detailed information on one or more nodes')
    .argument('<node...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      const c = await ctx.client();
      const fetch = async (r: string) => c.get<NodeView>(`/nodes/${encodeURIComponent(await nodeRef(c, r))}`);
      if (!o.pretty) return inspectEach(ctx, refs, fetch, o.format);
      let first = true;
      await forEachRef(ctx, refs, async (r) => {
        const n = await fetch(r);
        if (!first) ctx.print();
        first = false;
        ctx.out.write(prettyNode(n));
      });
    });

  const update = new Command('update')
    .description('Update a node')
    .argument('<node>')
    .option('--availability <string>', 'Availability of the node ("active", "pause", "drain")')
    .option('--role <string>', 'Role of the node ("worker", "manager")')
    .option('--label-add <list>', 'Add or update a node label (key=value)', collect, [])
    .option('--label-rm <list>', 'Remove a node label if exists', collect, [])
    .action(async (ref: string, o: { availability?: string; role?: string; labelAdd: string[]; labelRm: string[] }) => {
      const c = await ctx.client();
      await updateNode(c, ref, (spec) => {
        if (o.availability !== undefined) {
          if (!['active', 'pause', 'drain'].includes(o.availability.toLowerCase())) throw new ExitError(1, `invalid availability: ${o.availability}`);
          spec.Availability = o.availability.toLowerCase() as NodeSpec['Availability'];
        }
        if (o.role !== undefined) {
          if (!['worker', 'manager'].includes(o.role.toLowerCase())) throw new ExitError(1, `invalid role: ${o.role}`);
          spec.Role = o.role.toLowerCase() as NodeSpec['Role'];
        }
        Object.assign(spec.Labels!, keyValues(o.labelAdd));
        for (const k of o.labelRm) delete spec.Labels![k];
      });
      ctx.print(ref);
    });

  const roleChange = (name: 'promote' | 'demote') => new Command(name)
    .description(name === 'promote' ? 'Promote one or more nodes to manager in the swarm' : 'Demote one or more nodes from manager in the swarm')
    .argument('<node...>')
    .action(async (refs: string[]) => {
      const c = await ctx.client();
      const role = name === 'promote' ? 'manager' : 'worker';
      await forEachRef(ctx, refs, async (r) => {
        try {
          await updateNode(c, r, (spec) => {
            if (spec.Role === role) throw new AlreadyDone(`Node ${r} is already a ${role}.`);
            spec.Role = role;
          });
        } catch (err) {
          if (err instanceof AlreadyDone) return ctx.print(err.message);
          throw err;
        }
        ctx.print(name === 'promote' ? `Node ${r} promoted to a manager in the swarm.` : `Manager ${r} demoted in the swarm.`);
      });
    });

  const rm = new Command('rm').alias('remove')
    .description('Remove one or more nodes from the swarm')
    .argument('<node...>')
    .option('-f, --force', 'Force remove a node from the swarm')
    .action(async (refs: string[], o: { force?: boolean }) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (r) => {
        await c.delete(`/nodes/${encodeURIComponent(r)}`, { force: !!o.force });
        ctx.print(r);
      });
    });

  const ps = new Command('ps')
    .description('List tasks running on one or more nodes, defaults to current node')
    .argument('[node...]')
    .option('-q, --quiet', 'Only display task IDs')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Pretty-print tasks using a Go template')
    .option('--no-trunc', 'Do not truncate output')
    .action(async (refs: string[], o: { quiet?: boolean; filter: string[]; format?: string; trunc: boolean }) => {
      const c = await ctx.client();
      const nodes = new Map((await c.get<NodeView[]>('/nodes')).map((n) => [n.ID, n]));
      const services = new Map((await c.get<ServiceView[]>('/services')).map((s) => [s.ID, s]));
      const tasks: TaskView[] = [];
      await forEachRef(ctx, refs.length ? refs : ['self'], async (r) => {
        const node = await c.get<NodeView>(`/nodes/${encodeURIComponent(await nodeRef(c, r))}`);
        const f = Filters.fromFlags([...o.filter, `node=${node.ID}`]);
        tasks.push(...await c.get<TaskView[]>('/tasks', { filters: f.toQuery() }));
      }).finally(() => ctx.out.write(renderTasks(tasks, services, nodes, o)));
    });

  return [ls, inspect, update, roleChange('promote'), roleChange('demote'), rm, ps];
}

/**
 * `berth service logs SERVICE|TASK`, as docker/cli's: the daemon tags each
 * line with its node, service and task ids (`details`), which become a
 * `name.slot.task@node    | ` prefix (names looked up once per task);
 * `--raw` prints the lines alone, a TTY service only raw.
 */
import { Command } from 'commander';
import { StdDemuxer, StdStream } from '../../../api/stdcopy.js';
import type { NodeView, ServiceView, TaskView } from '../../../api/types/index.js';
import type { EngineClient } from '../../../client/engine-client.js';
import { NotFound } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { truncateID } from '../../format/formatter.js';
import { apiTimestamp } from '../container/logs.js';

interface LogsFlags {
  details?: boolean;
  follow?: boolean;
  resolve: boolean;
  taskIds: boolean;
  trunc: boolean;
  raw?: boolean;
  since?: string;
  tail: string;
  timestamps?: boolean;
}

const CONTEXT_KEYS = ['com.docker.swarm.node.id', 'com.docker.swarm.service.id', 'com.docker.swarm.task.id'] as const;

/** docker's getMaxLength: the digits of a slot or replica count, for padding. */
const digits = (n: number) => String(n).length;

export function serviceLogsCommand(ctx: CliContext): Command {
  return new Command('logs')
    .description('Fetch the logs of a service or task')
    .argument('<service|task>')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--no-resolve', 'Do not map IDs to Names in output')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .option('--raw', 'Do not neatly format logs')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .action(async (target: string, o: LogsFlags) => {
      const c = await ctx.client();
      const { path, tty, padding } = await resolveTarget(c, target);
      // docker's words: a TTY's output has no frames to hang a prefix on
      if (tty && !o.raw) throw new ExitError(1, 'tty service logs only supported with --raw');
      const res = await c.call('GET', path, {
        query: {
          stdout: 1, stderr: 1, tail: o.tail, follow: o.follow ? 1 : undefined, since: apiTimestamp(o.since),
          timestamps: o.timestamps ? 1 : undefined, details: o.details || !o.raw ? 1 : undefined,
        },
      });
      if (tty) {
        for await (const chunk of res) ctx.out.write(chunk as Buffer);
        return;
      }
      const prefix = o.raw ? undefined : new TaskPrefixes(c, o, padding);
      // frames are formatted in order: a name lookup holds the lines behind it
      let chain = Promise.resolve();
      let failed: unknown;
      const demux = new StdDemuxer((stream, payload) => {
        const out = stream === StdStream.Stderr ? ctx.err : ctx.out;
        chain = chain.then(async () => {
          if (failed) return; // docker stops at the first line it cannot format
          out.write(prefix ? await formatLine(payload.toString('utf8'), o, prefix) : payload);
        }).catch((err) => {
          failed ??= err;
        });
      });
      for await (const chunk of res) demux.push(chunk as Buffer);
      await chain;
      if (failed) throw failed;
    });
}

/** A service by name or id, else a task (docker tries in that order). */
async function resolveTarget(c: EngineClient, target: string): Promise<{ path: string; tty: boolean; padding: number }> {
  const id = encodeURIComponent(target);
  try {
    const s = await c.get<ServiceView>(`/services/${id}`);
    const replicas = s.Spec.Mode?.Replicated?.Replicas;
    return { path: `/services/${id}/logs`, tty: s.Spec.TaskTemplate?.ContainerSpec?.TTY === true, padding: replicas !== undefined ? digits(replicas) : 1 };
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
  }
  try {
    const t = await c.get<TaskView>(`/tasks/${id}`);
    return { path: `/tasks/${id}/logs`, tty: t.Spec?.ContainerSpec?.TTY === true, padding: digits(t.Slot ?? 0) };
  } catch (err) {
    if (err instanceof NotFound) throw new ExitError(1, `no such task or service: ${target}`);
    throw err;
  }
}

/** One line with details (`k=v,... text`, after the timestamp under -t) as docker's logWriter prints it. */
async function formatLine(line: string, o: LogsFlags, prefixes: TaskPrefixes): Promise<string> {
  let ts = '';
  let rest = line;
  if (o.timestamps) {
    const sp = rest.indexOf(' ');
    ts = `${rest.slice(0, sp)} `;
    rest = rest.slice(sp + 1);
  }
  const sp = rest.indexOf(' ');
  if (sp < 0) throw new ExitError(1, `invalid context in log message: ${line}`);
  const details = parseDetails(rest.slice(0, sp));
  const ids = CONTEXT_KEYS.map((k) => {
    const v = details.get(k);
    if (v === undefined) throw new ExitError(1, `missing ${k.split('.').slice(-2, -1)[0]} id in details`);
    details.delete(k);
    return v;
  }) as [string, string, string];
  // docker adds the rest of the details and a space under --details even when nothing is left
  const extra = o.details ? `${[...details].map(([k, v]) => `${k}=${v}`).sort().join(',')} ` : '';
  return `${ts}${await prefixes.of(...ids)}    | ${extra}${rest.slice(sp + 1)}`;
}

/** docker's logdetails.ParseLogDetails: `k=v` pairs, comma-separated, query-escaped. */
function parseDetails(s: string): Map<string, string> {
  if (!s) throw new ExitError(1, 'invalid details format');
  const m = new Map<string, string>();
  for (const pair of s.split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new ExitError(1, 'invalid details format');
    m.set(unescape(pair.slice(0, eq)), unescape(pair.slice(eq + 1)));
  }
  return m;
}

function unescape(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new ExitError(1, 'invalid details format');
  }
}

/** `service.slot[.task]@node` plus padding, looked up once per (node, service, task). */
class TaskPrefixes {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(private readonly c: EngineClient, private readonly o: LogsFlags, private readonly padding: number) {}

  of(nodeId: string, serviceId: string, taskId: string): Promise<string> {
    const key = `${nodeId} ${serviceId} ${taskId}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.make(nodeId, serviceId, taskId);
      this.cache.set(key, p);
    }
    return p;
  }

  private async make(nodeId: string, serviceId: string, taskId: string): Promise<string> {
    const [node, service, task] = await Promise.all([this.nodeName(nodeId), this.serviceName(serviceId), this.c.get<TaskView>(`/tasks/${encodeURIComponent(taskId)}`)]);
    const slot = task.Slot ?? 0;
    let name = `${service}.${slot}`;
    if (this.o.taskIds) name += `.${this.o.trunc ? truncateID(task.ID) : task.ID}`;
    return `${name}@${node}${' '.repeat(Math.max(0, this.padding - digits(slot)))}`;
  }

  /** docker's idresolver: the node's name, else its hostname, else the id (a failed lookup too). */
  private async nodeName(id: string): Promise<string> {
    if (!this.o.resolve) return id;
    const n = await this.c.get<NodeView>(`/nodes/${encodeURIComponent(id)}`).catch(() => undefined);
    return n?.Spec?.Name || n?.Description?.Hostname || id;
  }

  private async serviceName(id: string): Promise<string> {
    if (!this.o.resolve) return id;
    const s = await this.c.get<ServiceView>(`/services/${encodeURIComponent(id)}`);
    return s.Spec.Name ?? id;
  }
}

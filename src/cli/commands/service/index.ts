/** `berth service create|ls|ps|inspect|scale|update|rollback|rm` (docker service's flags and output). */
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { Network, NodeView, ServiceSpecView, ServiceView, TaskView } from '../../../api/types/index.js';
import type { EngineClient } from '../../../client/engine-client.js';
import { formatGoDuration } from '../../../lib/go-time.js';
import { collect, ExitError, keyValues, type CliContext } from '../../context.js';
import { forEachRef, inspectEach } from '../../each.js';
import { renderList } from '../../format/formatter.js';
import { TabWriter } from '../../format/tabwriter.js';
import { waitOnService } from './progress.js';
import { imageWithoutDigest, renderTasks } from './tasks.js';
import { serviceLogsCommand } from './logs.js';

function uint(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new ExitError(125, `invalid argument "${v}" for "--${flag}" flag: strconv.ParseUint: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** `--secret name` or `--secret source=name,target=file,...`: docker's SecretReference, the ID looked up by name. */
async function secretRef(c: EngineClient, flag: string) {
  const kv = flag.includes('=') ? keyValues(flag.split(',')) : { source: flag };
  const source = kv.source ?? kv.src ?? '';
  const { ID } = await c.get<{ ID: string }>(`/secrets/${encodeURIComponent(source)}`);
  return { File: { Name: kv.target ?? source, UID: kv.uid ?? '0', GID: kv.gid ?? '0', Mode: kv.mode ? parseInt(kv.mode, 8) : 0o444 }, SecretID: ID, SecretName: source };
}

/** A network flag as docker sends it: the network's ID when the daemon knows the name. */
async function networkTarget(c: EngineClient, name: string): Promise<{ Target: string }> {
  const n = await c.get<Network>(`/networks/${encodeURIComponent(name)}`, { scope: 'swarm' }).catch(() => undefined);
  return { Target: n?.Id ?? name };
}

interface CreateFlags {
  name?: string; replicas?: string; mode: string; env: string[]; label: string[]; containerLabel: string[]; constraint: string[];
  restartCondition?: string; restartMaxAttempts?: string; network: string[]; secret: string[]; detach?: boolean; quiet?: boolean;
  workdir?: string; user?: string; hostname?: string; entrypoint?: string;
}

async function createSpec(c: EngineClient, image: string, args: string[], o: CreateFlags): Promise<ServiceSpecView> {
  if (o.mode !== 'replicated' && o.mode !== 'global') throw new ExitError(125, `invalid argument "${o.mode}" for "--mode" flag: must be replicated, global, replicated-job, or global-job`);
  if (o.mode === 'global' && o.replicas !== undefined) throw new ExitError(1, 'replicas can only be used with replicated or replicated-job mode');
  const restart: Record<string, unknown> = {};
  if (o.restartCondition) {
    if (!['none', 'on-failure', 'any'].includes(o.restartCondition)) throw new ExitError(125, `invalid argument "${o.restartCondition}" for "--restart-condition" flag: invalid restart condition`);
    restart.Condition = o.restartCondition;
  }
  if (o.restartMaxAttempts !== undefined) restart.MaxAttempts = uint('restart-max-attempts', o.restartMaxAttempts);
  const secrets = [];
  for (const s of o.secret) secrets.push(await secretRef(c, s));
  const networks = [];
  for (const n of o.network) networks.push(await networkTarget(c, n));
  return {
    Name: o.name ?? '',
    Labels: keyValues(o.label),
    TaskTemplate: {
      ContainerSpec: {
        Image: image, Labels: keyValues(o.containerLabel), ...(args.length ? { Args: args } : {}),
        ...(o.entrypoint ? { Command: o.entrypoint.split(/\s+/) } : {}),
        ...(o.env.length ? { Env: o.env } : {}), ...(o.workdir ? { Dir: o.workdir } : {}), ...(o.user ? { User: o.user } : {}),
        ...(o.hostname ? { Hostname: o.hostname } : {}), ...(secrets.length ? { Secrets: secrets } : {}),
      },
      ...(Object.keys(restart).length ? { RestartPolicy: restart } : {}),
      Placement: o.constraint.length ? { Constraints: o.constraint } : {},
      ...(networks.length ? { Networks: networks } : {}),
      ForceUpdate: 0,
    },
    Mode: o.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: o.replicas !== undefined ? uint('replicas', o.replicas) : 1 } },
    EndpointSpec: { Mode: 'vip' },
  };
}

function replicasColumn(s: ServiceView): string {
  const st = s.ServiceStatus;
  return st ? `${st.RunningTasks}/${st.DesiredTasks}` : '';
}

/** docker's `service inspect --pretty`, the parts berth's services have. */
export function prettyService(s: ServiceView): string {
  const spec = s.Spec;
  const cs = spec.TaskTemplate?.ContainerSpec ?? {};
  const lines = ['', `ID:\t\t${s.ID}`, `Name:\t\t${spec.Name ?? ''}`];
  const labels = Object.entries(spec.Labels ?? {});
  if (labels.length) lines.push('Labels:', ...labels.map(([k, v]) => ` ${k}=${v}`));
  if (spec.Mode?.Global) lines.push('Service Mode:\tGlobal');
  else lines.push('Service Mode:\tReplicated', ` Replicas:\t${spec.Mode?.Replicated?.Replicas ?? 1}`);
  const constraints = spec.TaskTemplate?.Placement?.Constraints ?? [];
  lines.push('Placement:');
  if (constraints.length) lines.push(` Constraints:\t[${constraints.join(' ')}]`);
  const rp = spec.TaskTemplate?.RestartPolicy;
  if (rp) {
    lines.push('RestartPolicy:', ` Condition:\t${rp.Condition ?? 'any'}`);
    if (rp.Delay !== undefined) lines.push(` Delay:\t\t${formatGoDuration(rp.Delay)}`);
    if (rp.MaxAttempts !== undefined) lines.push(` Max Attempts:\t${rp.MaxAttempts}`);
  }
  lines.push('ContainerSpec:', ` Image:\t\t${cs.Image ?? ''}`);
  if (cs.Args?.length) lines.push(` Args:\t\t${cs.Args.map((a) => a + ' ').join('')}`);
  if (cs.Env?.length) lines.push(` Env:\t\t${cs.Env.map((e) => e + ' ').join('')}`);
  const nets = spec.TaskTemplate?.Networks ?? [];
  if (nets.length) lines.push(`Networks:\t${nets.map((n) => n.Target + ' ').join('')}`);
  lines.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? 'vip'}`);
  const tw = new TabWriter({ minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ' });
  tw.write(lines.join('\n') + '\n');
  return tw.flush();
}

async function inspectService(c: EngineClient, ref: string): Promise<ServiceView> {
  return c.get<ServiceView>(`/services/${encodeURIComponent(ref)}`);
}

async function updateService(c: EngineClient, svc: ServiceView, spec: ServiceSpecView, query: Record<string, string> = {}): Promise<string[]> {
  const res = await c.json<{ Warnings?: string[] | null }>('POST', `/services/${encodeURIComponent(svc.ID)}/update`, { query: { version: svc.Version.Index, ...query }, body: spec });
  return res?.Warnings ?? [];
}

export function serviceCommands(ctx: CliContext): Command[] {
  const warn = (ws: string[] | null | undefined) => {
    for (const w of ws ?? []) ctx.err.write(w + '\n');
  };

  const create = new Command('create')
    .description('Create a new service')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .option('--name <string>', 'Service name')
    .option('--replicas <uint>', 'Number of tasks')
    .option('--mode <string>', 'Service mode ("replicated", "global", "replicated-job", "global-job")', 'replicated')
    .option('-e, --env <list>', 'Set environment variables', collect, [])
    .option('-l, --label <list>', 'Service labels', collect, [])
    .option('--container-label <list>', 'Container labels', collect, [])
    .option('--constraint <list>', 'Placement constraints', collect, [])
    .option('--restart-condition <string>', 'Restart when condition is met ("none", "on-failure", "any") (default "any")')
    .option('--restart-max-attempts <uint>', 'Maximum number of restarts before giving up')
    .option('--network <network>', 'Network attachments', collect, [])
    .option('--secret <secret>', 'Specify secrets to expose to the service', collect, [])
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--hostname <string>', 'Container hostname')
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (image: string, args: string[], o: CreateFlags) => {
      const c = await ctx.client();
      const spec = await createSpec(c, image, args, o);
      const res = await c.json<{ ID: string; Warnings?: string[] | null }>('POST', '/services/create', { body: spec });
      warn(res.Warnings);
      ctx.print(res.ID);
      if (!o.detach) await waitOnService(ctx, c, res.ID, o.quiet);
    });

  const ls = new Command('ls').alias('list')
    .description('List services')
    .option('-q, --quiet', 'Only display IDs')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { quiet?: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const list = await c.get<ServiceView[]>('/services', { filters: Filters.fromFlags(o.filter).toQuery(), status: true });
      list.sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''));
      ctx.out.write(renderList({
        format: o.format, quiet: o.quiet,
        defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}',
        headers: { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' },
        rows: list.map((s) => ({
          ID: s.ID.slice(0, 12), Name: s.Spec.Name ?? '', Mode: s.Spec.Mode?.Global ? 'global' : 'replicated',
          Replicas: replicasColumn(s), Image: imageWithoutDigest(s.Spec.TaskTemplate?.ContainerSpec?.Image ?? ''), Ports: '',
        })),
        typeName: '*formatter.serviceContext',
      }));
    });

  const ps = new Command('ps')
    .description('List the tasks of one or more services')
    .argument('<service...>')
    .option('-q, --quiet', 'Only display task IDs')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Pretty-print tasks using a Go template')
    .option('--no-trunc', 'Do not truncate output')
    .action(async (refs: string[], o: { quiet?: boolean; filter: string[]; format?: string; trunc: boolean }) => {
      const c = await ctx.client();
      const services = new Map<string, ServiceView>();
      let missing = false;
      for (const r of refs) {
        try {
          const s = await inspectService(c, r);
          services.set(s.ID, s);
        } catch {
          missing = true;
          ctx.err.write(`no such service: ${r}\n`);
        }
      }
      if (!services.size) throw new ExitError(1);
      const f = Filters.fromFlags([...o.filter, ...[...services.keys()].map((id) => `service=${id}`)]);
      const tasks = await c.get<TaskView[]>('/tasks', { filters: f.toQuery() });
      const nodes = new Map((await c.get<NodeView[]>('/nodes').catch(() => [] as NodeView[])).map((n) => [n.ID, n]));
      ctx.out.write(renderTasks(tasks, services, nodes, o));
      if (missing) throw new ExitError(1);
    });

  const inspect = new Command('inspect')
    .description('Display detailed information on one or more services')
    .argument('<service...>')
    .option('-f, --format <string>', 'Format output using the given Go template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      const c = await ctx.client();
      if (!o.pretty) return inspectEach(ctx, refs, (r) => inspectService(c, r), o.format);
      await forEachRef(ctx, refs, async (r) => {
        ctx.out.write(prettyService(await inspectService(c, r)));
      });
    });

  const scale = new Command('scale')
    .description('Scale one or multiple replicated services')
    .argument('<service=replicas...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (pairs: string[], o: { detach?: boolean }) => {
      for (const p of pairs) {
        if (!/^[^=]+=\d+$/.test(p)) throw new ExitError(1, `invalid scale specifier '${p}'.\nSee 'docker service scale --help'.\n\nUsage:  docker service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nScale one or multiple replicated services`);
      }
      const c = await ctx.client();
      const scaled: string[] = [];
      await forEachRef(ctx, pairs, async (p) => {
        const [name, n] = p.split('=') as [string, string];
        const svc = await inspectService(c, name);
        if (!svc.Spec.Mode?.Replicated) throw new Error('scale can only be used with replicated or replicated-job mode');
        warn(await updateService(c, svc, { ...svc.Spec, Mode: { Replicated: { Replicas: Number(n) } } }));
        ctx.print(`${name} scaled to ${n}`);
        scaled.push(name);
      }).finally(async () => {
        if (!o.detach) for (const s of scaled) await waitOnService(ctx, c, s);
      });
    });

  const update = new Command('update')
    .description('Update a service')
    .argument('<service>')
    .option('--image <string>', 'Service image tag')
    .option('--env-add <list>', 'Add or update an environment variable', collect, [])
    .option('--env-rm <list>', 'Remove an environment variable', collect, [])
    .option('--label-add <list>', 'Add or update a service label', collect, [])
    .option('--label-rm <list>', 'Remove a label by its key', collect, [])
    .option('--replicas <uint>', 'Number of tasks')
    .option('--args <command>', 'Service command args')
    .option('--force', 'Force update even if no changes require it')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (ref: string, o: { image?: string; envAdd: string[]; envRm: string[]; labelAdd: string[]; labelRm: string[]; replicas?: string; args?: string; force?: boolean; detach?: boolean; quiet?: boolean }) => {
      const c = await ctx.client();
      const svc = await inspectService(c, ref);
      const spec: ServiceSpecView = structuredClone(svc.Spec);
      const task = (spec.TaskTemplate ??= {});
      const cs = (task.ContainerSpec ??= {});
      if (o.image !== undefined) cs.Image = o.image;
      if (o.args !== undefined) cs.Args = o.args.split(/\s+/).filter(Boolean);
      if (o.envAdd.length || o.envRm.length) {
        const env = new Map((cs.Env ?? []).map((e) => [e.split('=')[0]!, e]));
        for (const k of o.envRm) env.delete(k.split('=')[0]!);
        for (const e of o.envAdd) env.set(e.split('=')[0]!, e);
        cs.Env = [...env.values()];
      }
      if (o.labelAdd.length || o.labelRm.length) {
        spec.Labels = { ...(spec.Labels ?? {}), ...keyValues(o.labelAdd) };
        for (const k of o.labelRm) delete spec.Labels[k];
      }
      if (o.replicas !== undefined) {
        if (!spec.Mode?.Replicated) throw new ExitError(1, 'replicas can only be used with replicated or replicated-job mode');
        spec.Mode = { Replicated: { Replicas: uint('replicas', o.replicas) } };
      }
      if (o.force) task.ForceUpdate = (task.ForceUpdate ?? 0) + 1;
      warn(await updateService(c, svc, spec));
      ctx.print(ref);
      if (!o.detach) await waitOnService(ctx, c, svc.ID, o.quiet);
    });

  const rollback = new Command('rollback')
    .description('Revert changes to a service\'s configuration')
    .argument('<service>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (ref: string, o: { detach?: boolean; quiet?: boolean }) => {
      const c = await ctx.client();
      const svc = await inspectService(c, ref);
      warn(await updateService(c, svc, svc.Spec, { rollback: 'previous' }));
      ctx.print(ref);
      if (!o.detach) await waitOnService(ctx, c, svc.ID, o.quiet);
    });

  const rm = new Command('rm').alias('remove')
    .description('Remove one or more services')
    .argument('<service...>')
    .action(async (refs: string[]) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (r) => {
        await c.delete(`/services/${encodeURIComponent(r)}`);
        ctx.print(r);
      });
    });

  return [create, ls, ps, inspect, serviceLogsCommand(ctx), scale, update, rollback, rm];
}

/**
 * `berth swarm init|join|join-token|leave|update|unlock-key` (docker swarm's
 * flags and output; the join commands it prints say `docker`, as docker's do).
 */
import { Command, Option } from 'commander';
import type { NodeView, SwarmInfoView, SwarmSpec, SwarmView } from '../../../api/types/index.js';
import type { EngineClient } from '../../../client/engine-client.js';
import { ExitError, type CliContext } from '../../context.js';
import { parseGoDuration } from '../../../lib/go-time.js';

const DEFAULT_LISTEN = '0.0.0.0:2377';

async function swarmInfo(c: EngineClient): Promise<SwarmInfoView> {
  return (await c.get<{ Swarm: SwarmInfoView }>('/info')).Swarm;
}

/** docker's printJoinCommand: the token and this manager's address from its node object. */
async function joinCommand(c: EngineClient, role: 'worker' | 'manager'): Promise<string> {
  const sw = await c.get<SwarmView>('/swarm');
  const info = await swarmInfo(c);
  const node = await c.get<NodeView>(`/nodes/${encodeURIComponent(info.NodeID)}`);
  const token = role === 'worker' ? sw.JoinTokens.Worker : sw.JoinTokens.Manager;
  return `To add a ${role} to this swarm, run the following command:\n\n    docker swarm join --token ${token} ${node.ManagerStatus?.Addr ?? info.NodeAddr}\n\n`;
}

function durationNs(flag: string, v: string): number {
  const ns = parseGoDuration(v);
  if (ns === undefined) throw new ExitError(125, `invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`);
  return ns;
}

function integer(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new ExitError(125, `invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

interface SpecFlags { taskHistoryLimit?: string; dispatcherHeartbeat?: string; certExpiry?: string }

/** The spec fields the flags set (docker's swarmOptions.mergeSwarmSpec). */
function mergeSpec(spec: SwarmSpec, o: SpecFlags): SwarmSpec {
  const s: SwarmSpec = { ...spec };
  if (o.taskHistoryLimit !== undefined) s.Orchestration = { ...s.Orchestration, TaskHistoryRetentionLimit: integer('task-history-limit', o.taskHistoryLimit) };
  if (o.dispatcherHeartbeat !== undefined) s.Dispatcher = { ...s.Dispatcher, HeartbeatPeriod: durationNs('dispatcher-heartbeat', o.dispatcherHeartbeat) };
  if (o.certExpiry !== undefined) s.CAConfig = { ...s.CAConfig, NodeCertExpiry: durationNs('cert-expiry', o.certExpiry) };
  return s;
}

function specOptions(cmd: Command): Command {
  return cmd
    .option('--task-history-limit <int>', 'Task history retention limit (default 5)')
    .option('--dispatcher-heartbeat <duration>', 'Dispatcher heartbeat period (ns|us|ms|s|m|h) (default 5s)')
    .option('--cert-expiry <duration>', 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)');
}

export function swarmCommands(ctx: CliContext): Command[] {
  const init = specOptions(new Command('init'))
    .description('Initialize a swarm')
    .option('--advertise-addr <string>', 'Advertised address (format: "<ip|interface>[:port]")')
    .option('--listen-addr <node-addr>', 'Listen address (format: "<ip|interface>[:port]")', DEFAULT_LISTEN)
    .option('--force-new-cluster', 'Force create a new cluster from current state')
    .option('--autolock', 'Enable manager autolocking (requiring an unlock key to start a stopped manager)')
    .action(async (o: SpecFlags & { advertiseAddr?: string; listenAddr: string; forceNewCluster?: boolean; autolock?: boolean }) => {
      const c = await ctx.client();
      const spec = mergeSpec(o.autolock ? { EncryptionConfig: { AutoLockManagers: true } } : {}, o);
      const nodeId = await c.json<string>('POST', '/swarm/init', {
        body: { ListenAddr: o.listenAddr, AdvertiseAddr: o.advertiseAddr ?? '', ForceNewCluster: !!o.forceNewCluster, Spec: spec },
      });
      ctx.out.write(`Swarm initialized: current node (${nodeId}) is now a manager.\n\n`);
      ctx.out.write(await joinCommand(c, 'worker'));
      ctx.out.write("To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.\n\n");
      if (o.autolock) await printUnlockKey(ctx, c, false);
    });

  const join = new Command('join')
    .description('Join a swarm as a node and/or manager')
    .argument('<host:port>')
    .option('--token <string>', 'Token for entry into the swarm')
    .option('--advertise-addr <string>', 'Advertised address (format: "<ip|interface>[:port]")')
    .option('--listen-addr <node-addr>', 'Listen address (format: "<ip|interface>[:port]")', DEFAULT_LISTEN)
    .action(async (remote: string, o: { token?: string; advertiseAddr?: string; listenAddr: string }) => {
      const c = await ctx.client();
      await c.post('/swarm/join', { body: { RemoteAddrs: [remote], JoinToken: o.token ?? '', AdvertiseAddr: o.advertiseAddr ?? '', ListenAddr: o.listenAddr } });
      const info = await swarmInfo(c);
      ctx.print(info.ControlAvailable ? 'This node joined a swarm as a manager.' : 'This node joined a swarm as a worker.');
    });

  const joinToken = new Command('join-token')
    .description('Manage join tokens')
    .argument('<role>', '(worker|manager)')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate join token')
    .action(async (role: string, o: { quiet?: boolean; rotate?: boolean }) => {
      if (role !== 'worker' && role !== 'manager') throw new ExitError(1, 'unknown role ' + role);
      const c = await ctx.client();
      if (o.rotate) {
        const sw = await c.get<SwarmView>('/swarm');
        await c.post('/swarm/update', {
          query: { version: sw.Version.Index, rotateWorkerToken: role === 'worker', rotateManagerToken: role === 'manager' },
          body: sw.Spec,
        });
        if (!o.quiet) ctx.out.write(`Successfully rotated ${role} join token.\n\n`);
      }
      if (o.quiet) {
        const sw = await c.get<SwarmView>('/swarm');
        ctx.print(role === 'worker' ? sw.JoinTokens.Worker : sw.JoinTokens.Manager);
        return;
      }
      ctx.out.write(await joinCommand(c, role));
    });

  const leave = new Command('leave')
    .description('Leave the swarm')
    .option('-f, --force', 'Force this node to leave the swarm, ignoring warnings')
    .action(async (o: { force?: boolean }) => {
      const c = await ctx.client();
      await c.post('/swarm/leave', { query: { force: !!o.force } });
      ctx.print('Node left the swarm.');
    });

  const update = specOptions(new Command('update'))
    .description('Update the swarm')
    .addOption(new Option('--autolock', 'Change manager autolocking setting (true|false)'))
    .action(async (o: SpecFlags & { autolock?: boolean }) => {
      const c = await ctx.client();
      const sw = await c.get<SwarmView>('/swarm');
      const spec = mergeSpec(sw.Spec, o);
      if (o.autolock !== undefined) spec.EncryptionConfig = { ...spec.EncryptionConfig, AutoLockManagers: o.autolock };
      await c.post('/swarm/update', { query: { version: sw.Version.Index }, body: spec });
      ctx.print('Swarm updated.');
    });

  const unlockKey = new Command('unlock-key')
    .description('Manage the unlock key')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate unlock key')
    .action(async (o: { quiet?: boolean; rotate?: boolean }) => {
      const c = await ctx.client();
      if (o.rotate) throw new ExitError(1, 'unlock key rotation is not supported by berth');
      await printUnlockKey(ctx, c, !!o.quiet);
    });

  return [init, join, joinToken, leave, update, unlockKey];
}

async function printUnlockKey(ctx: CliContext, c: EngineClient, quiet: boolean): Promise<void> {
  const { UnlockKey: key } = await c.get<{ UnlockKey: string }>('/swarm/unlockkey');
  if (!key) throw new ExitError(1, 'no unlock key is set');
  if (quiet) return ctx.print(key);
  ctx.out.write('To unlock a swarm manager after it restarts, run the `docker swarm unlock`\ncommand and provide the following key:\n\n'
    + `    ${key}\n\nPlease remember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n`);
}

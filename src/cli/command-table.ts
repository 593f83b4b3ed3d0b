/**
 * berth's top-level commands, each behind a dynamic import so that one run
 * loads (and builds the commander tree of) only the command it runs: start-up
 * time of the CLI is user-visible, and the whole tree costs more than most
 * commands' own work. The names are written out here because knowing them
 * must not load anything; command-table.test.ts checks them against the
 * modules.
 */
import { Command } from 'commander';
import type { CliContext } from './context.js';

export interface CommandSource {
  /** Top-level names and aliases this source adds (what argv routing matches). */
  names: string[];
  load(ctx: CliContext): Promise<Command[]>;
}

/** A command group (`berth container ...`): its subcommands load with it. */
function group(name: string, description: string, load: (ctx: CliContext) => Promise<Command[]>): CommandSource {
  return {
    names: [name],
    async load(ctx) {
      const g = new Command(name).description(description).enablePositionalOptions().exitOverride();
      for (const c of await load(ctx)) g.addCommand(c.exitOverride());
      return [g];
    },
  };
}

/** In help order: the groups, then docker's top-level shortcuts. */
export const COMMAND_SOURCES: CommandSource[] = [
  group('container', 'Manage containers', async (ctx) => (await import('./commands/container/index.js')).containerCommands(ctx)),
  group('image', 'Manage images', async (ctx) => (await import('./commands/image/index.js')).imageCommands(ctx)),
  group('network', 'Manage networks', async (ctx) => (await import('./commands/network/index.js')).networkCommands(ctx)),
  group('volume', 'Manage volumes', async (ctx) => (await import('./commands/volume/index.js')).volumeCommands(ctx)),
  group('swarm', 'Manage Swarm', async (ctx) => (await import('./commands/swarm/index.js')).swarmCommands(ctx)),
  group('node', 'Manage Swarm nodes', async (ctx) => (await import('./commands/node/index.js')).nodeCommands(ctx)),
  group('service', 'Manage Swarm services', async (ctx) => (await import('./commands/service/index.js')).serviceCommands(ctx)),
  group('secret', 'Manage swarm secrets', async (ctx) => (await import('./commands/secret/index.js')).secretCommands(ctx)),
  group('config', 'Manage swarm configs', async (ctx) => (await import('./commands/config/index.js')).configCommands(ctx)),
  group('plugin', 'Manage plugins', async (ctx) => (await import('./commands/plugin/index.js')).pluginCommands(ctx)),
  group('builder', 'Manage builds', async (ctx) => (await import('./commands/builder/index.js')).builderCommands(ctx)),
  group('system', 'Manage berth', async (ctx) => (await import('./commands/system/index.js')).systemCommands(ctx)),
  group('context', 'Manage contexts', async (ctx) => (await import('./commands/context/index.js')).contextCommands(ctx)),
  group('certs', 'Make TLS certificates for the Engine API', async (ctx) => (await import('./commands/certs/index.js')).certsCommands(ctx)),
  {
    names: ['run', 'create', 'start', 'stop', 'restart', 'kill', 'rm', 'wait', 'logs', 'ps', 'exec', 'attach', 'pause', 'unpause', 'rename', 'update', 'port', 'top', 'stats', 'diff', 'export', 'commit', 'cp'],
    load: async (ctx) => (await import('./commands/container/index.js')).containerShortcuts(ctx),
  },
  {
    names: ['images', 'pull', 'push', 'import', 'rmi', 'tag', 'history', 'save', 'load'],
    load: async (ctx) => (await import('./commands/image/index.js')).imageShortcuts(ctx),
  },
  // `build` apart from the other image shortcuts: a fully cached build is mostly start-up, and they bring the template engine
  { names: ['build'], load: async (ctx) => [(await import('./commands/image/build.js')).buildCommand(ctx)] },
  // `version` apart from the other system shortcuts: it is the one run to check that berth works
  { names: ['version'], load: async (ctx) => [(await import('./commands/system/version.js')).versionCommand(ctx)] },
  {
    names: ['info', 'inspect', 'events'],
    load: async (ctx) => (await import('./commands/system/index.js')).systemShortcuts(ctx).filter((c) => c.name() !== 'version'),
  },
  {
    names: ['login', 'logout'],
    load: async (ctx) => {
      const m = await import('./commands/registry/index.js');
      return [m.loginCommand(ctx), m.logoutCommand(ctx)];
    },
  },
  { names: ['console'], load: async (ctx) => [(await import('./commands/console/console.js')).consoleCommand(ctx)] },
];

/** Global flags that take the next argument as their value (as in global-flags.ts). */
const VALUE_GLOBALS = new Set(['-H', '--host', '-c', '--context', '--config', '--tlscacert', '--tlscert', '--tlskey', '-l', '--log-level']);
/** Global flags without a value. */
const FLAG_GLOBALS = new Set(['-D', '--debug', '--tls', '--no-tls', '--tlsverify', '--no-tlsverify']);

/**
 * The command name of a command line (after rewriteBooleanGlobals), or
 * undefined when it has none or when the global part is anything but the
 * plain forms above (combined short flags, `--help`, unknown flags): those
 * lines get the whole tree, so commander answers them exactly as before.
 */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') return a;
    if (VALUE_GLOBALS.has(a)) i++;
    else if (/^--[a-z-]+=/.test(a) && VALUE_GLOBALS.has(a.slice(0, a.indexOf('=')))) continue;
    else if (!FLAG_GLOBALS.has(a)) return undefined;
  }
  return undefined;
}

/** Commands that do not start by calling the daemon: no early ping for them. */
const LOCAL_COMMANDS = new Set(['context', 'certs', 'console', 'login', 'logout']);

/** May the daemon's ping start before the command loads? A daemon command, no global flags before it, no help asked. */
export function pingsEarly(argv: string[]): boolean {
  const name = argv[0];
  return name !== undefined && commandName(argv) === name && !LOCAL_COMMANDS.has(name) && !argv.some((a) => a === '-h' || a === '--help')
    && COMMAND_SOURCES.some((s) => s.names.includes(name));
}

/** The commands to add for this command line: the one source that has its name, none for `--version`, or all of them (help, a typo). */
export async function loadCommands(ctx: CliContext, argv: string[]): Promise<Command[]> {
  const name = commandName(argv);
  // the version flag answers before any command: loading them all took longer than the rest of the run
  if (name === undefined && argv.some((a) => a === '-v' || a === '--version') && !argv.some((a) => a === '-h' || a === '--help')) return [];
  const one = name === undefined ? undefined : COMMAND_SOURCES.find((s) => s.names.includes(name));
  if (one && name !== undefined) return (await one.load(ctx)).filter((c) => c.name() === name || c.aliases().includes(name));
  const all = await Promise.all(COMMAND_SOURCES.map((s) => s.load(ctx)));
  return all.flat();
}

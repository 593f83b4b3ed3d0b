/**
 * Managed plugins as the Engine API shows them (moby's types.Plugin and
 * types.PluginConfig), and the pure rules over them: validating a plugin's
 * config.json, its initial settings, the privileges it asks for, and
 * `docker plugin set KEY=VALUE`.
 *
 *   config.json (from `docker plugin create` or a registry's config blob)
 *   { "Interface": {"Types": ["docker.volumedriver/1.0"], "Socket": "vol.sock"},
 *     "Entrypoint": ["/vol"], "Network": {"Type": "none"},
 *     "Env": [{"Name": "DEBUG", "Settable": ["value"], "Value": "0"}] }
 *   → Plugin {Id, Name: "vol:latest", Enabled: false,
 *             Settings: {Env: ["DEBUG=0"], Args: [], Mounts: [], Devices: []}, Config}
 */
import { InvalidParameter } from '../../../errdefs/index.js';

import type { PluginConfig, PluginDevice, PluginEnv, PluginMount, PluginPrivilege, PluginSettings } from '../../../api/types/plugin.js';

export type { PluginConfig, PluginDevice, PluginEnv, PluginMount, PluginObject, PluginPrivilege, PluginSettings } from '../../../api/types/plugin.js';

/** A config.json is hostile input: bounded, typed, and only what the API knows. */
export const MAX_CONFIG_BYTES = 1 << 20;

function bad(msg: string): InvalidParameter {
  return new InvalidParameter('plugin.invalid_config', msg);
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
function strs(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`invalid plugin config: ${what} must be a list of strings`);
  return v as string[];
}
function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(`invalid plugin config: ${what} must be a string`);
  return v;
}
function optStr(v: unknown, what: string): string | null {
  return v === undefined || v === null ? null : str(v, what);
}

/** Parses and normalises config.json; refuses what would make the plugin unusable or unsafe to run. */
export function parsePluginConfig(text: string): PluginConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`invalid plugin config: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw bad('invalid plugin config: not a JSON object');
  const iface = isObj(raw.Interface) ? raw.Interface : {};
  const types = strs(iface.Types, 'Interface.Types');
  const socket = str(iface.Socket, 'Interface.Socket');
  // the socket is created in the plugin's runtime directory: a bare file name only
  if (socket && (socket.includes('/') || socket === '.' || socket === '..' || socket.length > 64)) throw bad(`invalid plugin config: socket name "${socket}" must be a file name`);
  const net = isObj(raw.Network) ? raw.Network : {};
  const linux = isObj(raw.Linux) ? raw.Linux : {};
  const args = isObj(raw.Args) ? raw.Args : {};
  const user = isObj(raw.User) ? raw.User : {};
  const mounts = (Array.isArray(raw.Mounts) ? raw.Mounts : []).map((m, i): PluginMount => {
    if (!isObj(m)) throw bad(`invalid plugin config: Mounts[${i}] must be an object`);
    const dest = str(m.Destination, `Mounts[${i}].Destination`);
    if (!dest.startsWith('/')) throw bad(`invalid plugin config: Mounts[${i}].Destination must be an absolute path`);
    return {
      Name: str(m.Name, 'Mounts.Name'), Description: str(m.Description, 'Mounts.Description'), Settable: strs(m.Settable, 'Mounts.Settable'),
      Source: optStr(m.Source, 'Mounts.Source'), Destination: dest, Type: str(m.Type, 'Mounts.Type') || 'bind', Options: strs(m.Options, 'Mounts.Options'),
    };
  });
  const env = (Array.isArray(raw.Env) ? raw.Env : []).map((e, i): PluginEnv => {
    if (!isObj(e) || typeof e.Name !== 'string' || !e.Name || e.Name.includes('=')) throw bad(`invalid plugin config: Env[${i}] needs a Name`);
    return { Name: e.Name, Description: str(e.Description, 'Env.Description'), Settable: strs(e.Settable, 'Env.Settable'), Value: optStr(e.Value, 'Env.Value') };
  });
  const devices = (Array.isArray(linux.Devices) ? linux.Devices : []).map((d, i): PluginDevice => {
    if (!isObj(d)) throw bad(`invalid plugin config: Linux.Devices[${i}] must be an object`);
    return { Name: str(d.Name, 'Devices.Name'), Description: str(d.Description, 'Devices.Description'), Settable: strs(d.Settable, 'Devices.Settable'), Path: optStr(d.Path, 'Devices.Path') };
  });
  const netType = str(net.Type, 'Network.Type');
  const uid = typeof user.UID === 'number' && Number.isInteger(user.UID) && user.UID >= 0 ? user.UID : undefined;
  const gid = typeof user.GID === 'number' && Number.isInteger(user.GID) && user.GID >= 0 ? user.GID : undefined;
  const rootfs = isObj(raw.rootfs) ? { type: str(raw.rootfs.type, 'rootfs.type'), diff_ids: strs(raw.rootfs.diff_ids, 'rootfs.diff_ids') } : undefined;
  const propagated = str(raw.PropagatedMount, 'PropagatedMount');
  if (propagated && !propagated.startsWith('/')) throw bad('invalid plugin config: PropagatedMount must be an absolute path');
  const workDir = str(raw.WorkDir, 'WorkDir');
  return {
    ...(typeof raw.DockerVersion === 'string' ? { DockerVersion: raw.DockerVersion } : {}),
    Description: str(raw.Description, 'Description'),
    Documentation: str(raw.Documentation, 'Documentation'),
    Interface: { Types: types, Socket: socket, ...(typeof iface.ProtocolScheme === 'string' && iface.ProtocolScheme ? { ProtocolScheme: iface.ProtocolScheme } : {}) },
    Entrypoint: strs(raw.Entrypoint, 'Entrypoint'),
    WorkDir: workDir,
    ...(uid !== undefined || gid !== undefined ? { User: { ...(uid !== undefined ? { UID: uid } : {}), ...(gid !== undefined ? { GID: gid } : {}) } } : {}),
    Network: { Type: netType },
    Linux: { Capabilities: strs(linux.Capabilities, 'Linux.Capabilities'), AllowAllDevices: linux.AllowAllDevices === true, Devices: devices },
    PropagatedMount: propagated,
    IpcHost: raw.IpcHost === true,
    PidHost: raw.PidHost === true,
    Mounts: mounts,
    Env: env,
    Args: { Name: str(args.Name, 'Args.Name'), Description: str(args.Description, 'Args.Description'), Settable: strs(args.Settable, 'Args.Settable'), Value: strs(args.Value, 'Args.Value') },
    ...(rootfs ? { rootfs } : {}),
  };
}

/** moby's validation at create: a plugin must say how to reach it. */
export function checkRunnable(c: PluginConfig): void {
  if (!c.Interface.Socket) throw bad('plugin config is missing Interface.Socket');
  if (!c.Interface.Types.length) throw bad('plugin config is missing Interface.Types');
  if (!c.Entrypoint?.length) throw bad('plugin config is missing Entrypoint');
}

/** The settings a new plugin starts with: the config's own values. */
export function initialSettings(c: PluginConfig): PluginSettings {
  return {
    Mounts: c.Mounts.map((m) => ({ ...m })),
    Env: c.Env.filter((e) => e.Value !== null && e.Value !== undefined).map((e) => `${e.Name}=${e.Value}`),
    Args: [...(c.Args.Value ?? [])],
    Devices: (c.Linux.Devices ?? []).map((d) => ({ ...d })),
  };
}

/** `docker.volumedriver/1.0` → `VolumeDriver`: the names the registry's users ask for. */
const CAPABILITY_NAMES: Record<string, string> = {
  volumedriver: 'VolumeDriver', networkdriver: 'NetworkDriver', ipamdriver: 'IpamDriver', authz: 'authz', logdriver: 'LogDriver',
  metricscollector: 'MetricsCollector',
};

export function implementsOf(c: PluginConfig): string[] {
  const out: string[] = [];
  for (const t of c.Interface.Types) {
    const m = /^docker\.([a-z]+)\/[0-9.]+$/.exec(t);
    const cap = m ? CAPABILITY_NAMES[m[1]!] : undefined;
    if (cap && !out.includes(cap)) out.push(cap);
  }
  return out;
}

/** moby's computePrivileges: what `docker plugin install` asks the user to grant. */
export function privilegesOf(c: PluginConfig): PluginPrivilege[] {
  const p: PluginPrivilege[] = [];
  const net = c.Network.Type;
  if (net && net !== 'null' && net !== 'bridge') p.push({ Name: 'network', Description: 'permissions to access a network', Value: [net] });
  if (c.IpcHost) p.push({ Name: 'host ipc namespace', Description: 'allow access to host ipc namespace', Value: ['true'] });
  if (c.PidHost) p.push({ Name: 'host pid namespace', Description: 'allow access to host pid namespace', Value: ['true'] });
  for (const m of c.Mounts) if (m.Source) p.push({ Name: 'mount', Description: 'host path to mount', Value: [m.Source] });
  for (const d of c.Linux.Devices ?? []) if (d.Path) p.push({ Name: 'device', Description: 'host device to access', Value: [d.Path] });
  if (c.Linux.AllowAllDevices) p.push({ Name: 'allow-all-devices', Description: "allow 'rwm' access to all devices", Value: ['true'] });
  if (c.Linux.Capabilities?.length) p.push({ Name: 'capabilities', Description: 'list of additional capabilities required', Value: [...c.Linux.Capabilities] });
  return p;
}

/** Granted privileges must be exactly the required ones (moby's validatePrivileges). */
export function checkPrivileges(required: PluginPrivilege[], granted: PluginPrivilege[]): void {
  const key = (x: PluginPrivilege) => `${x.Name}\0${[...(x.Value ?? [])].sort().join('\0')}`;
  const a = required.map(key).sort();
  const b = (granted ?? []).map(key).sort();
  if (a.length !== b.length || a.some((k, i) => k !== b[i])) throw new InvalidParameter('plugin.privileges', 'incorrect privileges');
}

/**
 * `docker plugin set KEY=VALUE`, `mount.source=/x`, `device.path=/dev/y`,
 * `args=a b` on a disabled plugin (moby's v2 Plugin.Set). Returns new settings.
 */
export function applySettings(c: PluginConfig, s: PluginSettings, pairs: string[]): PluginSettings {
  const next: PluginSettings = { Mounts: s.Mounts.map((m) => ({ ...m })), Env: [...s.Env], Args: [...s.Args], Devices: s.Devices.map((d) => ({ ...d })) };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidParameter('plugin.set_invalid', `invalid settable: "${pair}"`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const dot = key.indexOf('.');
    const name = dot < 0 ? key : key.slice(0, dot);
    const field = dot < 0 ? '' : key.slice(dot + 1);
    const pretty = field ? `${name}.${field}` : name;
    const settable = (allowed: string[], declared: string[] | null | undefined, dflt: string) => {
      const f = field || dflt;
      if (!allowed.includes(f) || !(declared ?? []).includes(f)) throw new InvalidParameter('plugin.not_settable', `"${pretty}" is not settable`);
    };
    const env = c.Env.find((e) => e.Name === name);
    if (env) {
      settable(['value'], env.Settable, 'value');
      const i = next.Env.findIndex((e) => e.startsWith(`${name}=`));
      if (i >= 0) next.Env[i] = `${name}=${value}`;
      else next.Env.push(`${name}=${value}`);
      continue;
    }
    if (c.Args.Name && c.Args.Name === name) {
      settable(['value'], c.Args.Settable, 'value');
      next.Args = value.split(/\s+/).filter(Boolean);
      continue;
    }
    const mi = next.Mounts.findIndex((m) => m.Name === name);
    if (mi >= 0) {
      settable(['source'], next.Mounts[mi]!.Settable, 'source');
      next.Mounts[mi]!.Source = value;
      continue;
    }
    const di = next.Devices.findIndex((d) => d.Name === name);
    if (di >= 0) {
      settable(['path'], next.Devices[di]!.Settable, 'path');
      next.Devices[di]!.Path = value;
      continue;
    }
    throw new InvalidParameter('plugin.setting_not_found', `setting "${name}" not found in the plugin configuration`);
  }
  return next;
}

/** `name` → `name:latest`, as moby stores plugin names. */
export function withLatest(name: string): string {
  const slash = name.lastIndexOf('/');
  return name.slice(slash + 1).includes(':') || name.includes('@') ? name : `${name}:latest`;
}

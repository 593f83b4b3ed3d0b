/**
 * The OCI runtime spec of a managed plugin (moby's v2 Plugin.InitSpec), a
 * pure function: the plugin's rootfs as root, its entrypoint + args and env
 * from its settings, Docker's default capabilities plus the ones its config
 * asks for, its network (a new empty one, or the host's), and its runtime
 * directory bind-mounted at /run/docker/plugins where it creates its socket.
 */
import type { RuntimeSpec, SpecMount, SpecNamespace } from '../../../oci/runtime-spec.js';
import { DEFAULT_CAPABILITIES } from '../../containers/security/capabilities.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_PATH, DEFAULT_READONLY_PATHS, defaultMounts, resources } from '../../containers/spec.js';
import type { ContainerRecord } from '../../containers/record.js';
import type { PluginObject } from './config.js';

/** Where a plugin finds its runtime directory (and creates its socket). */
export const PLUGIN_SOCKET_DIR_IN_PLUGIN = '/run/docker/plugins';

export interface PluginSpecInputs {
  plugin: PluginObject;
  rootfs: string;
  /** Host directory holding the plugin's socket. */
  runtimeDir: string;
  cgroupsPath: string;
  cgroupVersion: 1 | 2;
  /** Host side of Config.PropagatedMount: a shared mount the plugin's mounts propagate back to. */
  propagatedMount?: string;
  /** Host device nodes for Settings.Devices (resolved by the caller). */
  devices?: { path: string; type: 'c' | 'b'; major: number; minor: number }[];
}

export function pluginSpec(i: PluginSpecInputs): RuntimeSpec {
  const c = i.plugin.Config;
  const s = i.plugin.Settings;
  const caps = [...new Set([...DEFAULT_CAPABILITIES, ...(c.Linux.Capabilities ?? []).map((x) => (x.startsWith('CAP_') ? x : `CAP_${x}`).toUpperCase())])];
  const hc = { Privileged: false } as unknown as ContainerRecord['hostConfig'];
  const host = c.Network.Type === 'host';
  const namespaces: SpecNamespace[] = [{ type: 'mount' }, { type: 'uts' }];
  if (!host) namespaces.push({ type: 'network' });
  if (!c.PidHost) namespaces.push({ type: 'pid' });
  if (!c.IpcHost) namespaces.push({ type: 'ipc' });
  const mounts: SpecMount[] = [
    ...defaultMounts(hc, i.cgroupVersion, false),
    { destination: PLUGIN_SOCKET_DIR_IN_PLUGIN, type: 'bind', source: i.runtimeDir, options: ['rbind', 'rshared'] },
  ];
  if (host) {
    // the host's network without its name resolution would be of little use (moby binds both read-only)
    mounts.push({ destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro'] });
    mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro'] });
  }
  for (const m of s.Mounts) {
    if (!m.Source) continue;
    const type = m.Type || 'bind';
    const opts = m.Options ?? [];
    mounts.push({ destination: m.Destination, type, source: m.Source, options: type === 'bind' && !opts.some((o) => o === 'bind' || o === 'rbind') ? ['rbind', ...opts] : opts });
  }
  if (c.PropagatedMount && i.propagatedMount) {
    mounts.push({ destination: c.PropagatedMount, type: 'bind', source: i.propagatedMount, options: ['rbind', 'rshared'] });
  }
  const res = resources(hc);
  if (c.Linux.AllowAllDevices) res.devices = [{ allow: true, access: 'rwm' }];
  const spec: RuntimeSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: c.User?.UID ?? 0, gid: c.User?.GID ?? 0 },
      args: [...(c.Entrypoint ?? []), ...s.Args],
      env: [DEFAULT_PATH, ...s.Env],
      cwd: c.WorkDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      oomScoreAdj: 0,
    },
    root: { path: i.rootfs, readonly: false },
    mounts,
    linux: {
      namespaces,
      cgroupsPath: i.cgroupsPath,
      resources: res,
      maskedPaths: DEFAULT_MASKED_PATHS,
      readonlyPaths: DEFAULT_READONLY_PATHS,
    },
  };
  // without a shared root, the propagated mount would be a slave inside the plugin (moby sets the same)
  if (c.PropagatedMount && i.propagatedMount) spec.linux.rootfsPropagation = 'rshared';
  if (i.devices?.length) {
    spec.linux.devices = i.devices.map((d) => ({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: 0o660, uid: 0, gid: 0 }));
    for (const d of i.devices) res.devices!.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' });
  }
  return spec;
}

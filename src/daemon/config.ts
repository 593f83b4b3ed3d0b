/**
 * berthd's settings: flags, then daemon.json (dockerd's rule: a setting may
 * come from one place only).
 */
import { readFile } from 'node:fs/promises';
import { InvalidParameter } from '../errdefs/index.js';
import { isLogLevel, type LogLevel } from '../lib/logger.js';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  logLevel: LogLevel;
  /** cgroup parent of every container (cgroupfs path). */
  cgroupParent: string;
  /** Keep containers running when berthd stops (they are always re-attached at start). */
  liveRestore: boolean;
  shimBinary: string;
  /** `default`, `user[:group]` or `uid[:gid]`: run containers' root as an unprivileged host user. */
  usernsRemap?: string;
  /** Give every container an init (tini) unless it says otherwise. */
  init?: boolean;
  /** The init binary; default: `docker-init` on PATH, then Debian's /usr/bin/tini-static. */
  initPath?: string;
  /** Device name of the default `bridge` network (dockerd's --bridge). Unique per daemon on a host. */
  bridge: string;
  /** Its gateway address and prefix, e.g. 172.17.0.1/16 (dockerd's --bip); empty: a free default pool. */
  bip: string;
}

export const DEFAULTS: DaemonConfig = {
  hosts: ['unix:///run/berth.sock'],
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  logLevel: 'info',
  cgroupParent: '/berth',
  liveRestore: false,
  shimBinary: 'containerd-shim-runc-v2',
  bridge: 'berth0',
  bip: '',
};

/** daemon.json keys and the config field each one sets. */
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  hosts: 'hosts',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  'log-level': 'logLevel',
  'cgroup-parent': 'cgroupParent',
  'live-restore': 'liveRestore',
  'userns-remap': 'usernsRemap',
  init: 'init',
  'init-path': 'initPath',
  bridge: 'bridge',
  bip: 'bip',
};

export async function loadConfig(flags: Partial<DaemonConfig>, configFile: string | undefined, fileRequired: boolean): Promise<DaemonConfig> {
  let file: Record<string, unknown> = {};
  if (configFile) {
    try {
      file = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || fileRequired) {
        throw new InvalidParameter('daemon.config_file', `unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
      }
    }
  }
  const fromFile: Partial<DaemonConfig> = {};
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(file)) {
    const field = FILE_KEYS[key];
    if (!field) continue; // dockerd keys berth does not use yet
    if (flags[field] !== undefined) conflicts.push(`${key}: (from flag: ${String(flags[field])}, from file: ${String(value)})`);
    (fromFile as Record<string, unknown>)[field] = value;
  }
  if (conflicts.length) {
    throw new InvalidParameter('daemon.config_conflict', `the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const cfg: DaemonConfig = { ...DEFAULTS, ...fromFile, ...stripUndefined(flags) };
  if (!isLogLevel(cfg.logLevel)) throw new InvalidParameter('daemon.log_level', `invalid log level: ${cfg.logLevel}`);
  if (!Array.isArray(cfg.hosts) || cfg.hosts.length === 0) throw new InvalidParameter('daemon.hosts', 'at least one --host is required');
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

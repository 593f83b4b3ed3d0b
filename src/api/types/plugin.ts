/** Managed plugins on the wire (moby's api/types/plugin.go): GET /plugins, /plugins/{name}/json, /plugins/privileges. */

export interface PluginMount {
  Name?: string;
  Description?: string;
  Settable?: string[] | null;
  Source?: string | null;
  Destination: string;
  Type?: string;
  Options?: string[] | null;
}

export interface PluginDevice {
  Name?: string;
  Description?: string;
  Settable?: string[] | null;
  Path?: string | null;
}

export interface PluginEnv {
  Name: string;
  Description?: string;
  Settable?: string[] | null;
  Value?: string | null;
}

export interface PluginConfig {
  DockerVersion?: string;
  Description: string;
  Documentation: string;
  Interface: { Types: string[]; Socket: string; ProtocolScheme?: string };
  Entrypoint: string[] | null;
  WorkDir: string;
  User?: { UID?: number; GID?: number };
  Network: { Type: string };
  Linux: { Capabilities: string[] | null; AllowAllDevices: boolean; Devices: PluginDevice[] | null };
  PropagatedMount: string;
  IpcHost: boolean;
  PidHost: boolean;
  Mounts: PluginMount[];
  Env: PluginEnv[];
  Args: { Name: string; Description: string; Settable: string[] | null; Value: string[] | null };
  rootfs?: { type: string; diff_ids: string[] };
}

export interface PluginSettings {
  Mounts: PluginMount[];
  Env: string[];
  Args: string[];
  Devices: PluginDevice[];
}

/** The API's Plugin object (berthd also keeps it on disk as the plugin's record). */
export interface PluginObject {
  Id: string;
  Name: string;
  Enabled: boolean;
  Settings: PluginSettings;
  PluginReference?: string;
  Config: PluginConfig;
}

export interface PluginPrivilege {
  Name: string;
  Description: string;
  Value: string[];
}


/** Wire views of a container record: inspect and the `ps` summary (pure). */
import type { ContainerInspect, ContainerSummary } from '../../api/types/index.js';
import type { ContainerRecord } from './record.js';
import { commandString, statusString } from './record.js';
import type { ContainerPaths } from './rootfs.js';

export interface InspectExtras {
  paths: ContainerPaths;
  lowerDirs: string[];
  execIds: string[];
  imageName?: string;
}

export function inspectView(rec: ContainerRecord, x: InspectExtras): ContainerInspect {
  // the top-level address fields describe the default bridge only (Docker's legacy view)
  const bridge = rec.networkSettings.Networks.bridge;
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.path,
    Args: rec.args,
    State: rec.state,
    Image: rec.image,
    ResolvConfPath: x.paths.resolvConf,
    HostnamePath: x.paths.hostname,
    HostsPath: x.paths.hosts,
    LogPath: x.paths.log,
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: x.execIds.length ? x.execIds : null,
    HostConfig: rec.hostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: [x.paths.init, ...x.lowerDirs].join(':'),
        MergedDir: x.paths.merged,
        UpperDir: x.paths.upper,
        WorkDir: x.paths.work,
      },
    },
    Mounts: rec.mounts,
    Config: rec.config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: rec.networkSettings.Ports,
      SandboxKey: rec.networkSettings.SandboxKey,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: bridge?.EndpointID ?? '',
      Gateway: bridge?.Gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: bridge?.IPAddress ?? '',
      IPPrefixLen: bridge?.IPPrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: bridge?.MacAddress ?? '',
      Networks: rec.networkSettings.Networks,
    },
  };
}

export function summaryView(rec: ContainerRecord, imageName: string, now = Date.now()): ContainerSummary {
  const ports: ContainerSummary['Ports'] = [];
  for (const [key, bindings] of Object.entries(rec.networkSettings.Ports)) {
    const [port, proto = 'tcp'] = key.split('/');
    if (!bindings || bindings.length === 0) ports.push({ PrivatePort: Number(port), Type: proto });
    else for (const b of bindings) ports.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: imageName,
    ImageID: rec.image,
    Command: commandString(rec.path, rec.args),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: ports,
    Labels: rec.config.Labels ?? {},
    State: rec.state.Status,
    Status: statusString(rec.state, now),
    HostConfig: { NetworkMode: rec.hostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: rec.networkSettings.Networks },
    Mounts: rec.mounts,
  };
}

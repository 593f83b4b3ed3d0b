/**
 * Request bodies as dockerd's Go types declare them (fields berth reads;
 * others pass unchecked). Names are moby's, for its error messages.
 */
import type { Shape } from './shape.js';

const strings: Shape = { list: 'string' };
const stringMap: Shape = { map: 'string' };
const emptyStructMap: Shape = { map: 'any' };

const healthConfig: Shape = {
  struct: 'HealthConfig',
  fields: { Test: strings, Interval: 'int', Timeout: 'int', StartPeriod: 'int', StartInterval: 'int', Retries: 'int' },
};

const containerConfigFields: Record<string, Shape> = {
  Hostname: 'string', Domainname: 'string', User: 'string',
  AttachStdin: 'bool', AttachStdout: 'bool', AttachStderr: 'bool',
  ExposedPorts: emptyStructMap, Tty: 'bool', OpenStdin: 'bool', StdinOnce: 'bool',
  Env: strings, Cmd: 'strslice', Healthcheck: healthConfig, ArgsEscaped: 'bool', Image: 'string',
  Volumes: emptyStructMap, WorkingDir: 'string', Entrypoint: 'strslice', NetworkDisabled: 'bool',
  MacAddress: 'string', OnBuild: strings, Labels: stringMap, StopSignal: 'string', StopTimeout: 'int', Shell: 'strslice',
};

const portBinding: Shape = { struct: 'PortBinding', fields: { HostIp: 'string', HostPort: 'string' } };

const mount: Shape = {
  struct: 'Mount',
  fields: {
    Type: 'string', Source: 'string', Target: 'string', ReadOnly: 'bool', Consistency: 'string',
    BindOptions: { struct: 'BindOptions', fields: { Propagation: 'string', NonRecursive: 'bool', CreateMountpoint: 'bool', ReadOnlyNonRecursive: 'bool', ReadOnlyForceRecursive: 'bool' } },
    VolumeOptions: {
      struct: 'VolumeOptions',
      fields: { NoCopy: 'bool', Labels: stringMap, Subpath: 'string', DriverConfig: { struct: 'Driver', fields: { Name: 'string', Options: stringMap } } },
    },
    TmpfsOptions: { struct: 'TmpfsOptions', fields: { SizeBytes: 'int', Mode: 'uint', Options: { list: strings } } },
  },
};

/** Resources: shared by HostConfig and the update body. */
const resourceFields: Record<string, Shape> = {
  CpuShares: 'int', Memory: 'int', NanoCpus: 'int', CgroupParent: 'string', BlkioWeight: 'uint',
  CpuPeriod: 'int', CpuQuota: 'int', CpuRealtimePeriod: 'int', CpuRealtimeRuntime: 'int', CpusetCpus: 'string', CpusetMems: 'string',
  Devices: { list: { struct: 'DeviceMapping', fields: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' } } },
  DeviceCgroupRules: strings, MemoryReservation: 'int', MemorySwap: 'int', MemorySwappiness: 'int', OomKillDisable: 'bool',
  PidsLimit: 'int', Ulimits: { list: { struct: 'Ulimit', fields: { Name: 'string', Soft: 'int', Hard: 'int' } } },
  KernelMemory: 'int', CpuCount: 'int', CpuPercent: 'int',
};

const restartPolicy: Shape = { struct: 'RestartPolicy', fields: { Name: 'string', MaximumRetryCount: 'int' } };

export const HOST_CONFIG: Shape = {
  struct: 'HostConfig',
  fields: {
    ...resourceFields,
    Binds: strings, ContainerIDFile: 'string',
    LogConfig: { struct: 'LogConfig', fields: { Type: 'string', Config: stringMap } },
    NetworkMode: 'string', PortBindings: { map: { list: portBinding } }, RestartPolicy: restartPolicy,
    AutoRemove: 'bool', VolumeDriver: 'string', VolumesFrom: strings, ConsoleSize: { list: 'uint' }, Annotations: stringMap,
    CapAdd: 'strslice', CapDrop: 'strslice', CgroupnsMode: 'string', Dns: strings, DnsOptions: strings, DnsSearch: strings,
    ExtraHosts: strings, GroupAdd: strings, IpcMode: 'string', Cgroup: 'string', Links: strings, OomScoreAdj: 'int',
    PidMode: 'string', Privileged: 'bool', PublishAllPorts: 'bool', ReadonlyRootfs: 'bool', SecurityOpt: strings,
    StorageOpt: stringMap, Tmpfs: stringMap, UTSMode: 'string', UsernsMode: 'string', ShmSize: 'int', Sysctls: stringMap,
    Runtime: 'string', Isolation: 'string', Init: 'bool', Mounts: { list: mount }, MaskedPaths: strings, ReadonlyPaths: strings,
  },
};

const endpointSettings: Shape = {
  struct: 'EndpointSettings',
  fields: {
    IPAMConfig: { struct: 'EndpointIPAMConfig', fields: { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: strings } },
    Links: strings, Aliases: strings, MacAddress: 'string', DriverOpts: stringMap, NetworkID: 'string', EndpointID: 'string',
    Gateway: 'string', IPAddress: 'string', IPPrefixLen: 'int', IPv6Gateway: 'string', GlobalIPv6Address: 'string',
    GlobalIPv6PrefixLen: 'int', DNSNames: strings,
  },
};

export const CONTAINER_CREATE: Shape = {
  struct: 'CreateRequest',
  fields: {
    ...containerConfigFields,
    HostConfig: HOST_CONFIG,
    NetworkingConfig: { struct: 'NetworkingConfig', fields: { EndpointsConfig: { map: endpointSettings } } },
  },
};

/** The commit body: a container Config. */
export const CONTAINER_CONFIG: Shape = { struct: 'Config', fields: containerConfigFields };

export const CONTAINER_UPDATE: Shape = { struct: 'UpdateConfig', fields: { ...resourceFields, RestartPolicy: restartPolicy } };

export const EXEC_CREATE: Shape = {
  struct: 'ExecOptions',
  fields: {
    AttachStdin: 'bool', AttachStdout: 'bool', AttachStderr: 'bool', ConsoleSize: { list: 'uint' }, DetachKeys: 'string',
    Tty: 'bool', Env: strings, Cmd: 'strslice', Privileged: 'bool', User: 'string', WorkingDir: 'string',
  },
};

export const EXEC_START: Shape = { struct: 'ExecStartOptions', fields: { Detach: 'bool', Tty: 'bool', ConsoleSize: { list: 'uint' } } };

export const VOLUME_CREATE: Shape = {
  struct: 'CreateOptions',
  fields: { Name: 'string', Driver: 'string', DriverOpts: stringMap, Labels: stringMap },
};

const ipamConfig: Shape = {
  struct: 'IPAMConfig',
  fields: { Subnet: 'string', IPRange: 'string', Gateway: 'string', AuxiliaryAddresses: stringMap },
};

export const NETWORK_CREATE: Shape = {
  struct: 'CreateRequest',
  fields: {
    Name: 'string', CheckDuplicate: 'bool', Driver: 'string', Scope: 'string', Internal: 'bool', Attachable: 'bool',
    Ingress: 'bool', ConfigOnly: 'bool', ConfigFrom: { struct: 'ConfigReference', fields: { Network: 'string' } },
    EnableIPv6: 'bool', EnableIPv4: 'bool',
    IPAM: { struct: 'IPAM', fields: { Driver: 'string', Options: stringMap, Config: { list: ipamConfig } } },
    Options: stringMap, Labels: stringMap,
  },
};

export const NETWORK_CONNECT: Shape = { struct: 'ConnectOptions', fields: { Container: 'string', EndpointConfig: endpointSettings } };

export const NETWORK_DISCONNECT: Shape = { struct: 'DisconnectOptions', fields: { Container: 'string', Force: 'bool' } };

/** `POST /auth` (registry.AuthConfig). */
export const AUTH_CONFIG: Shape = {
  struct: 'AuthConfig',
  fields: {
    username: 'string', password: 'string', auth: 'string', email: 'string', serveraddress: 'string',
    identitytoken: 'string', registrytoken: 'string',
  },
};

export const SWARM_SPEC: Shape = {
  struct: 'Spec',
  fields: {
    Name: 'string', Labels: stringMap,
    Orchestration: { struct: 'OrchestrationConfig', fields: { TaskHistoryRetentionLimit: 'int' } },
    Raft: { struct: 'RaftConfig', fields: { SnapshotInterval: 'uint', KeepOldSnapshots: 'uint', LogEntriesForSlowFollowers: 'uint', ElectionTick: 'int', HeartbeatTick: 'int' } },
    Dispatcher: { struct: 'DispatcherConfig', fields: { HeartbeatPeriod: 'int' } },
    CAConfig: { struct: 'CAConfig', fields: { NodeCertExpiry: 'int', SigningCACert: 'string', SigningCAKey: 'string', ForceRotate: 'uint' } },
    EncryptionConfig: { struct: 'EncryptionConfig', fields: { AutoLockManagers: 'bool' } },
  },
};

export const SWARM_INIT: Shape = {
  struct: 'InitRequest',
  fields: {
    ListenAddr: 'string', AdvertiseAddr: 'string', DataPathAddr: 'string', DataPathPort: 'uint', ForceNewCluster: 'bool',
    Spec: SWARM_SPEC, AutoLockManagers: 'bool', Availability: 'string', DefaultAddrPool: strings, SubnetSize: 'uint',
  },
};

export const NODE_SPEC: Shape = { struct: 'NodeSpec', fields: { Name: 'string', Labels: stringMap, Role: 'string', Availability: 'string' } };

export const SWARM_JOIN: Shape = {
  struct: 'JoinRequest',
  fields: { ListenAddr: 'string', AdvertiseAddr: 'string', DataPathAddr: 'string', RemoteAddrs: strings, JoinToken: 'string', Availability: 'string' },
};

const swarmDriver: Shape = { struct: 'Driver', fields: { Name: 'string', Options: stringMap } };

export const SECRET_SPEC: Shape = { struct: 'SecretSpec', fields: { Name: 'string', Labels: stringMap, Data: 'string', Driver: swarmDriver, Templating: swarmDriver } };

export const CONFIG_SPEC: Shape = { struct: 'ConfigSpec', fields: { Name: 'string', Labels: stringMap, Data: 'string', Templating: swarmDriver } };

export const SERVICE_SPEC: Shape = {
  struct: 'ServiceSpec',
  fields: {
    Name: 'string', Labels: stringMap, TaskTemplate: { struct: 'TaskSpec', fields: { ContainerSpec: { struct: 'ContainerSpec', fields: { Image: 'string', Args: { list: 'string' }, Command: { list: 'string' }, Env: { list: 'string' } } }, ForceUpdate: 'uint', Runtime: 'string' } },
    Mode: { struct: 'ServiceMode', fields: { Replicated: { struct: 'ReplicatedService', fields: { Replicas: 'uint' } }, Global: 'any' } },
    UpdateConfig: 'any', RollbackConfig: 'any', Networks: 'any', EndpointSpec: 'any',
  },
};

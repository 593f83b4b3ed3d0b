/** Swarm mode objects as the Engine API shapes them (swagger: Swarm, SwarmSpec, JoinTokens, Node, SwarmInfo). */

export interface ObjectVersion {
  Index: number;
}

export interface SwarmSpec {
  Name?: string;
  Labels?: Record<string, string>;
  Orchestration?: { TaskHistoryRetentionLimit?: number };
  Raft?: { SnapshotInterval?: number; KeepOldSnapshots?: number; LogEntriesForSlowFollowers?: number; ElectionTick?: number; HeartbeatTick?: number };
  Dispatcher?: { HeartbeatPeriod?: number };
  CAConfig?: { NodeCertExpiry?: number; ExternalCAs?: unknown[]; SigningCACert?: string; SigningCAKey?: string; ForceRotate?: number };
  EncryptionConfig?: { AutoLockManagers?: boolean };
  TaskDefaults?: { LogDriver?: { Name?: string; Options?: Record<string, string> } };
}

export interface JoinTokensView {
  Worker: string;
  Manager: string;
}

export interface ClusterInfoView {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: SwarmSpec;
  TLSInfo: { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string };
  RootRotationInProgress: boolean;
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
}

export interface SwarmView extends ClusterInfoView {
  JoinTokens: JoinTokensView;
}

export interface SwarmInitRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  DataPathPort?: number;
  DefaultAddrPool?: string[];
  ForceNewCluster?: boolean;
  SubnetSize?: number;
  Spec?: SwarmSpec;
}

export interface NodeSpec {
  Name?: string;
  Labels?: Record<string, string>;
  Role?: 'worker' | 'manager';
  Availability?: 'active' | 'pause' | 'drain';
}

export interface NodeView {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: NodeSpec;
  Description: {
    Hostname: string;
    Platform: { Architecture: string; OS: string };
    Resources: { NanoCPUs: number; MemoryBytes: number };
    Engine: { EngineVersion: string; Labels?: Record<string, string>; Plugins: { Type: string; Name: string }[] };
    TLSInfo: { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string };
  };
  Status: { State: 'unknown' | 'down' | 'ready' | 'disconnected'; Message?: string; Addr: string };
  ManagerStatus?: { Leader?: boolean; Reachability: 'unknown' | 'unreachable' | 'reachable'; Addr: string };
}

/** The `Swarm` block of `GET /info`. */
export interface SwarmInfoView {
  NodeID: string;
  NodeAddr: string;
  LocalNodeState: 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  ControlAvailable: boolean;
  Error: string;
  RemoteManagers: { NodeID: string; Addr: string }[] | null;
  Nodes?: number;
  Managers?: number;
  Cluster?: ClusterInfoView;
}

/** A secret's or config's driver (`Driver`, `Templating`): a name and options. */
export interface SwarmDriver {
  Name: string;
  Options?: Record<string, string>;
}

/** `POST /secrets/create` and `POST /secrets/{id}/update`; `Data` is base64. */
export interface SecretSpec {
  Name?: string;
  Labels?: Record<string, string>;
  Data?: string;
  Driver?: SwarmDriver;
  Templating?: SwarmDriver;
}

/** `GET /secrets/{id}`: the spec never carries `Data`. */
export interface SecretView {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Name: string; Labels: Record<string, string> };
}

/** `POST /configs/create` and `POST /configs/{id}/update`; `Data` is base64. */
export interface ConfigSpec {
  Name?: string;
  Labels?: Record<string, string>;
  Data?: string;
  Templating?: SwarmDriver;
}

/** `GET /configs/{id}`: configs are not secret, so `Data` is shown. */
export interface ConfigView {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Name: string; Labels: Record<string, string>; Data: string };
}

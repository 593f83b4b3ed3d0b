/** Swarm services and tasks as the Engine API shapes them (swagger: ServiceSpec, TaskSpec, Service, Task, TaskState). */
import type { HealthConfig } from '../../oci/image.js';
import type { ObjectVersion } from './swarm.js';

export type TaskState =
  | 'new' | 'allocated' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'ready' | 'starting' | 'running'
  | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';

export interface ContainerSpecView {
  Image?: string;
  Labels?: Record<string, string>;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  StopSignal?: string;
  StopGracePeriod?: number;
  Init?: boolean;
  /** `--health-*`, `--no-healthcheck` (Test ["NONE"]): the task container's healthcheck. */
  Healthcheck?: HealthConfig;
  Secrets?: { SecretID: string; SecretName?: string; File?: SwarmFileTarget }[] | null;
  Configs?: { ConfigID: string; ConfigName?: string; File?: SwarmFileTarget; Runtime?: Record<string, never> }[] | null;
  [k: string]: unknown;
}

/** Where a secret or config appears in a task's container (`File` of a SecretReference / ConfigReference). */
export interface SwarmFileTarget {
  Name: string;
  UID?: string;
  GID?: string;
  Mode?: number;
}

export interface ResourceValues {
  NanoCPUs?: number;
  MemoryBytes?: number;
}

export interface RestartPolicyView {
  Condition?: 'none' | 'on-failure' | 'any';
  /** Nanoseconds. */
  Delay?: number;
  MaxAttempts?: number;
  /** Nanoseconds. */
  Window?: number;
}

export interface TaskSpecView {
  ContainerSpec?: ContainerSpecView;
  Resources?: { Limits?: ResourceValues; Reservations?: ResourceValues };
  RestartPolicy?: RestartPolicyView;
  Placement?: { Constraints?: string[]; Preferences?: unknown[]; MaxReplicas?: number; Platforms?: unknown[] };
  /** Attached later by the overlay work; kept as given. */
  Networks?: { Target: string; Aliases?: string[] }[];
  ForceUpdate?: number;
  Runtime?: string;
  [k: string]: unknown;
}

export interface ServiceSpecView {
  Name?: string;
  Labels?: Record<string, string>;
  TaskTemplate?: TaskSpecView;
  Mode?: { Replicated?: { Replicas?: number }; Global?: Record<string, never> | object; ReplicatedJob?: unknown; GlobalJob?: unknown };
  UpdateConfig?: Record<string, unknown>;
  RollbackConfig?: Record<string, unknown>;
  Networks?: unknown[];
  EndpointSpec?: { Mode?: string; Ports?: PortConfigView[] };
}

/** swarm.PortConfig */
export interface PortConfigView {
  Name?: string;
  Protocol?: 'tcp' | 'udp' | 'sctp';
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: 'ingress' | 'host';
}

export interface ServiceView {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: ServiceSpecView;
  PreviousSpec?: ServiceSpecView;
  UpdateStatus?: { State: string; StartedAt?: string; CompletedAt?: string; Message?: string };
  Endpoint: { Spec: { Mode: string; Ports?: PortConfigView[] }; Ports?: PortConfigView[]; VirtualIPs?: { NetworkID: string; Addr: string }[] };
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks: number };
}

export interface TaskStatusView {
  Timestamp: string;
  State: TaskState;
  Message: string;
  Err?: string;
  ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
  PortStatus: { Ports?: PortConfigView[] };
}

export interface TaskView {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Labels: Record<string, string>;
  Spec: TaskSpecView;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  Status: TaskStatusView;
  DesiredState: TaskState;
}

/**
 * Message schemas of containerd's shim Task service (runtime/v2/task/shim.proto,
 * containerd 1.6) and of the events it publishes, as protobuf.ts data.
 */
import type { Schema } from './protobuf.js';

export type SchemaRef = Schema;

export const TASK_SERVICE = 'containerd.task.v2.Task';
export const EVENTS_SERVICE = 'containerd.services.events.ttrpc.v1.Events';

export const Timestamp: Schema = [
  { no: 1, name: 'seconds', type: 'int64' },
  { no: 2, name: 'nanos', type: 'int32' },
];
export const Any: Schema = [
  { no: 1, name: 'typeUrl', type: 'string' },
  { no: 2, name: 'value', type: 'bytes' },
];
export const Mount: Schema = [
  { no: 1, name: 'type', type: 'string' },
  { no: 2, name: 'source', type: 'string' },
  { no: 3, name: 'target', type: 'string' },
  { no: 4, name: 'options', type: 'string', repeated: true },
];
export const Empty: Schema = [];

const idOnly: Schema = [{ no: 1, name: 'id', type: 'string' }];
const idExec: Schema = [...idOnly, { no: 2, name: 'execId', type: 'string' }];

export const CreateTaskRequest: Schema = [
  { no: 1, name: 'id', type: 'string' },
  { no: 2, name: 'bundle', type: 'string' },
  { no: 3, name: 'rootfs', type: Mount, repeated: true },
  { no: 4, name: 'terminal', type: 'bool' },
  { no: 5, name: 'stdin', type: 'string' },
  { no: 6, name: 'stdout', type: 'string' },
  { no: 7, name: 'stderr', type: 'string' },
  { no: 10, name: 'options', type: Any },
];
export const PidResponse: Schema = [{ no: 1, name: 'pid', type: 'uint32' }];
export const StartRequest = idExec;
export const DeleteRequest = idExec;
export const DeleteResponse: Schema = [
  { no: 1, name: 'pid', type: 'uint32' },
  { no: 2, name: 'exitStatus', type: 'uint32' },
  { no: 3, name: 'exitedAt', type: Timestamp },
];
export const ExecProcessRequest: Schema = [
  ...idExec,
  { no: 3, name: 'terminal', type: 'bool' },
  { no: 4, name: 'stdin', type: 'string' },
  { no: 5, name: 'stdout', type: 'string' },
  { no: 6, name: 'stderr', type: 'string' },
  { no: 7, name: 'spec', type: Any },
];
export const ResizePtyRequest: Schema = [
  ...idExec,
  { no: 3, name: 'width', type: 'uint32' },
  { no: 4, name: 'height', type: 'uint32' },
];
export const StateRequest = idExec;
export const StateResponse: Schema = [
  { no: 1, name: 'id', type: 'string' },
  { no: 2, name: 'bundle', type: 'string' },
  { no: 3, name: 'pid', type: 'uint32' },
  { no: 4, name: 'status', type: 'enum' },
  { no: 8, name: 'terminal', type: 'bool' },
  { no: 9, name: 'exitStatus', type: 'uint32' },
  { no: 10, name: 'exitedAt', type: Timestamp },
  { no: 11, name: 'execId', type: 'string' },
];
export const KillRequest: Schema = [
  ...idExec,
  { no: 3, name: 'signal', type: 'uint32' },
  { no: 4, name: 'all', type: 'bool' },
];
export const CloseIORequest: Schema = [...idExec, { no: 3, name: 'stdin', type: 'bool' }];
export const PidsRequest = idOnly;
export const ProcessInfo: Schema = [
  { no: 1, name: 'pid', type: 'uint32' },
  { no: 2, name: 'info', type: Any },
];
export const PidsResponse: Schema = [{ no: 1, name: 'processes', type: ProcessInfo, repeated: true }];
export const UpdateTaskRequest: Schema = [
  { no: 1, name: 'id', type: 'string' },
  { no: 2, name: 'resources', type: Any },
];
export const WaitRequest = idExec;
export const WaitResponse: Schema = [
  { no: 1, name: 'exitStatus', type: 'uint32' },
  { no: 2, name: 'exitedAt', type: Timestamp },
];
export const StatsRequest = idOnly;
export const ConnectRequest = idOnly;
export const ConnectResponse: Schema = [
  { no: 1, name: 'shimPid', type: 'uint32' },
  { no: 2, name: 'taskPid', type: 'uint32' },
  { no: 3, name: 'version', type: 'string' },
];
export const ShutdownRequest: Schema = [
  { no: 1, name: 'id', type: 'string' },
  { no: 2, name: 'now', type: 'bool' },
];
export const PauseRequest = idOnly;

/** containerd.v1.types.Status */
export const TaskStatus = { UNKNOWN: 0, CREATED: 1, RUNNING: 2, STOPPED: 3, PAUSED: 4, PAUSING: 5 } as const;

// ---- events (api/events/task.proto, api/services/ttrpc/events/v1/events.proto)
export const Envelope: Schema = [
  { no: 1, name: 'timestamp', type: Timestamp },
  { no: 2, name: 'namespace', type: 'string' },
  { no: 3, name: 'topic', type: 'string' },
  { no: 4, name: 'event', type: Any },
];
export const ForwardRequest: Schema = [{ no: 1, name: 'envelope', type: Envelope }];
export const TaskExit: Schema = [
  { no: 1, name: 'containerId', type: 'string' },
  { no: 2, name: 'id', type: 'string' },
  { no: 3, name: 'pid', type: 'uint32' },
  { no: 4, name: 'exitStatus', type: 'uint32' },
  { no: 5, name: 'exitedAt', type: Timestamp },
];
export const TaskOOM: Schema = [{ no: 1, name: 'containerId', type: 'string' }];

/** runtime/v2/runc/options Options, sent as an Any with Create. */
export const RuncOptions: Schema = [
  { no: 3, name: 'shimCgroup', type: 'string' },
  { no: 6, name: 'binaryName', type: 'string' },
  { no: 7, name: 'root', type: 'string' },
  { no: 9, name: 'systemdCgroup', type: 'bool' },
];

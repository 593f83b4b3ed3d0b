import type { Filters } from '../../../../api/filters.js';
import type { NodeSpec, NodeView, SwarmInitRequest, SwarmSpec, SwarmView } from '../../../../api/types/index.js';

/** What the swarm and node routes need from the daemon. */
export interface SwarmBackend {
  /** Returns the new node's id. */
  init(req: SwarmInitRequest): Promise<string>;
  join(req: { RemoteAddrs?: string[]; JoinToken?: string; AdvertiseAddr?: string; ListenAddr?: string }): Promise<void>;
  inspect(): Promise<SwarmView>;
  update(spec: SwarmSpec, flags: { version: number; rotateWorkerToken: boolean; rotateManagerToken: boolean }): Promise<void>;
  unlockKey(): Promise<{ UnlockKey: string }>;
  leave(force: boolean): Promise<void>;
}

export interface NodesBackend {
  listNodes(filters: Filters): Promise<NodeView[]>;
  inspectNode(ref: string): Promise<NodeView>;
  updateNode(ref: string, version: number, spec: NodeSpec): Promise<void>;
  removeNode(ref: string, force: boolean): Promise<void>;
}

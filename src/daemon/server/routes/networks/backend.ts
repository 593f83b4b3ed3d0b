import type { Filters } from '../../../../api/filters.js';
import type { EndpointSettings, Network, NetworkCreateRequest, NetworkPruneResponse } from '../../../../api/types/index.js';

/** What the network routes read and change; implemented by NetworkService. */
export interface NetworksBackend {
  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }>;
  list(filters: Filters): Network[];
  inspect(ref: string): Network;
  remove(ref: string): Promise<void>;
  prune(filters: Filters): Promise<NetworkPruneResponse>;
}

/** Containers joining and leaving networks; implemented by ContainerNetworking. */
export interface EndpointsBackend {
  connect(network: string, container: string, cfg: EndpointSettings | undefined): Promise<void>;
  disconnect(network: string, container: string, force: boolean): Promise<void>;
}

/**
 * The remote network and IPAM driver protocols (moby's
 * libnetwork/drivers/remote and libnetwork/ipams/remote) over a plugin
 * client. Only the wire: what berth does with the answers is in
 * networks/drivers/remote.ts.
 *
 *   /NetworkDriver.GetCapabilities  {}                                   → {Scope, ConnectivityScope}
 *   /NetworkDriver.CreateNetwork    {NetworkID, Options, IPv4Data, IPv6Data}
 *   /NetworkDriver.DeleteNetwork    {NetworkID}
 *   /NetworkDriver.CreateEndpoint   {NetworkID, EndpointID, Interface: {Address, MacAddress}, Options} → {Interface}
 *   /NetworkDriver.EndpointOperInfo {NetworkID, EndpointID}              → {Value}
 *   /NetworkDriver.Join             {NetworkID, EndpointID, SandboxKey, Options}
 *                                   → {InterfaceName: {SrcName, DstPrefix}, Gateway, StaticRoutes, DisableGatewayService}
 *   /NetworkDriver.Leave            {NetworkID, EndpointID}
 *   /NetworkDriver.DeleteEndpoint   {NetworkID, EndpointID}
 *
 *   /IpamDriver.GetDefaultAddressSpaces {}  → {LocalDefaultAddressSpace, GlobalDefaultAddressSpace}
 *   /IpamDriver.RequestPool     {AddressSpace, Pool, SubPool, Options, V6} → {PoolID, Pool, Data}
 *   /IpamDriver.ReleasePool     {PoolID}
 *   /IpamDriver.RequestAddress  {PoolID, Address, Options}  → {Address: "10.0.0.2/24", Data}
 *   /IpamDriver.ReleaseAddress  {PoolID, Address}
 *
 * A 200 answer with its error field set (`Err` for network drivers, `Error`
 * for IPAM drivers) is `remote: <text>`, as libnetwork words it.
 */
import { SystemError } from '../../errdefs/index.js';
import type { PluginClient } from './client.js';
import type { PluginRegistry } from './registry.js';

export const NETWORK_DRIVER = 'NetworkDriver';
export const IPAM_DRIVER = 'IpamDriver';
/** ipamapi.RequestAddressType and netlabel.Gateway: the address asked for is the network's gateway. */
export const REQUEST_ADDRESS_TYPE = 'RequestAddressType';
export const GATEWAY_LABEL = 'com.docker.network.gateway';

/** A 200 answer with the error field set (libnetwork's `remote: …`). */
export class RemoteDriverError extends SystemError {
  constructor(message: string) {
    super('plugin.driver_error', `remote: ${message}`);
  }
}

export interface Ipv4Data {
  AddressSpace: string;
  Pool: string;
  /** CIDR form, as libnetwork's IPAMData marshals it: 10.9.0.1/24. */
  Gateway: string;
  AuxAddresses?: Record<string, string>;
}

export interface EndpointInterface {
  Address?: string;
  AddressIPv6?: string;
  MacAddress?: string;
}

export interface StaticRoute {
  Destination: string;
  /** 0: through NextHop; 1: on the link (connected). */
  RouteType: number;
  NextHop?: string;
}

export interface JoinAnswer {
  InterfaceName?: { SrcName?: string; DstName?: string; DstPrefix?: string } | null;
  Gateway?: string;
  StaticRoutes?: StaticRoute[] | null;
  DisableGatewayService?: boolean;
}

async function call<T>(client: PluginClient, method: string, args: unknown, errField: 'Err' | 'Error'): Promise<T> {
  const ret = await client.call<Record<string, unknown>>(method, args ?? {});
  const e = ret?.[errField];
  if (typeof e === 'string' && e) throw new RemoteDriverError(e);
  return (ret && typeof ret === 'object' ? ret : {}) as T;
}

export class NetworkDriverProxy {
  constructor(private readonly client: PluginClient) {}

  get name(): string {
    return this.client.name;
  }

  private call<T>(method: string, args: unknown): Promise<T> {
    return call<T>(this.client, `${NETWORK_DRIVER}.${method}`, args, 'Err');
  }

  /** libnetwork refuses a plugin whose Scope is neither local nor global. */
  async capabilities(): Promise<{ scope: 'local' | 'global'; connectivityScope: 'local' | 'global' }> {
    const r = await this.call<{ Scope?: unknown; ConnectivityScope?: unknown }>('GetCapabilities', {});
    if (r.Scope !== 'local' && r.Scope !== 'global') throw new RemoteDriverError(`invalid capability: expecting 'local' or 'global', got ${String(r.Scope ?? '')}`);
    const cs = r.ConnectivityScope === 'local' || r.ConnectivityScope === 'global' ? r.ConnectivityScope : r.Scope;
    return { scope: r.Scope, connectivityScope: cs };
  }

  async createNetwork(networkId: string, options: Record<string, unknown>, ipv4: Ipv4Data[]): Promise<void> {
    await this.call('CreateNetwork', { NetworkID: networkId, Options: options, IPv4Data: ipv4, IPv6Data: [] });
  }

  async deleteNetwork(networkId: string): Promise<void> {
    await this.call('DeleteNetwork', { NetworkID: networkId });
  }

  async createEndpoint(networkId: string, endpointId: string, iface: EndpointInterface, options: Record<string, unknown>): Promise<EndpointInterface | undefined> {
    const r = await this.call<{ Interface?: EndpointInterface | null }>('CreateEndpoint', { NetworkID: networkId, EndpointID: endpointId, Interface: iface, Options: options });
    return r.Interface ?? undefined;
  }

  async endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>> {
    const r = await this.call<{ Value?: Record<string, unknown> | null }>('EndpointOperInfo', { NetworkID: networkId, EndpointID: endpointId });
    return r.Value ?? {};
  }

  join(networkId: string, endpointId: string, sandboxKey: string, options: Record<string, unknown>): Promise<JoinAnswer> {
    return this.call<JoinAnswer>('Join', { NetworkID: networkId, EndpointID: endpointId, SandboxKey: sandboxKey, Options: options });
  }

  async leave(networkId: string, endpointId: string): Promise<void> {
    await this.call('Leave', { NetworkID: networkId, EndpointID: endpointId });
  }

  async deleteEndpoint(networkId: string, endpointId: string): Promise<void> {
    await this.call('DeleteEndpoint', { NetworkID: networkId, EndpointID: endpointId });
  }
}

export class IpamDriverProxy {
  constructor(private readonly client: PluginClient) {}

  get name(): string {
    return this.client.name;
  }

  private call<T>(method: string, args: unknown): Promise<T> {
    return call<T>(this.client, `${IPAM_DRIVER}.${method}`, args, 'Error');
  }

  async defaultAddressSpaces(): Promise<{ local: string; global: string }> {
    const r = await this.call<{ LocalDefaultAddressSpace?: string; GlobalDefaultAddressSpace?: string }>('GetDefaultAddressSpaces', {});
    return { local: r.LocalDefaultAddressSpace ?? '', global: r.GlobalDefaultAddressSpace ?? '' };
  }

  async requestPool(req: { AddressSpace: string; Pool: string; SubPool: string; Options: Record<string, string> }): Promise<{ poolId: string; pool: string; data: Record<string, string> }> {
    const r = await this.call<{ PoolID?: string; Pool?: string; Data?: Record<string, string> | null }>('RequestPool', { ...req, V6: false });
    return { poolId: r.PoolID ?? '', pool: r.Pool ?? '', data: r.Data ?? {} };
  }

  async releasePool(poolId: string): Promise<void> {
    await this.call('ReleasePool', { PoolID: poolId });
  }

  /** The address in CIDR form (libnetwork's ErrNoIPReturned when there is none). */
  async requestAddress(poolId: string, address: string, options: Record<string, string>): Promise<string> {
    const r = await this.call<{ Address?: string }>('RequestAddress', { PoolID: poolId, Address: address, Options: options });
    if (!r.Address) throw new RemoteDriverError('No address returned');
    return r.Address;
  }

  async releaseAddress(poolId: string, address: string): Promise<void> {
    await this.call('ReleaseAddress', { PoolID: poolId, Address: address });
  }
}

/** The drivers a network or a container uses, by plugin name. */
export interface RemoteNetworkPlugins {
  network(name: string): Promise<NetworkDriverProxy>;
  ipam(name: string): Promise<IpamDriverProxy>;
}

export class PluginNetworkDrivers implements RemoteNetworkPlugins {
  constructor(private readonly registry: Pick<PluginRegistry, 'get'>) {}

  async network(name: string): Promise<NetworkDriverProxy> {
    return new NetworkDriverProxy((await this.registry.get(name, NETWORK_DRIVER)).client);
  }

  async ipam(name: string): Promise<IpamDriverProxy> {
    return new IpamDriverProxy((await this.registry.get(name, IPAM_DRIVER)).client);
  }
}

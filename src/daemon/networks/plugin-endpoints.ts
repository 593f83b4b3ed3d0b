/**
 * A container's endpoint on a network that involves a plugin: a network
 * plugin's network (drivers/remote.ts has the steps), or a bridge network
 * whose addresses come from an IPAM plugin (the bridge CNI plugin with
 * static IPAM, the address being the plugin's).
 *
 *   const addr = await endpoints.add(n, a, target, { staticIp, primary, save });  // all or nothing
 *   await endpoints.remove(a, target);                                            // never throws
 *
 * Every step is saved in the attachment (`save`) before the next, so the
 * sandbox's teardown after a crash undoes exactly what was done.
 */
import { SystemError } from '../../errdefs/index.js';
import { newId } from '../../lib/ids.js';
import { formatIp, parseCidr, parseIp } from '../../lib/ipv4.js';
import type { Logger } from '../../lib/logger.js';
import { cniNetworkName, type NetworkConfList, type RuntimeConfig } from './cni-config.js';
import type { CniResult, CniRunner, CniTarget } from './cni.js';
import {
  checkJoinAnswer, checkMac, hostLocalOnly, joinCommands, macIn, moveIntoSandbox, undoEndpoint,
  type PluginAddress, type RemoteEndpoint,
} from './drivers/remote.js';
import type { NetworkRecord } from './network-store.js';
import type { NetworkService } from './service.js';

/** The part of a sandbox attachment this module fills in. */
export interface PluginAttachment {
  networkId: string;
  ifName: string;
  confList: NetworkConfList;
  rc: RuntimeConfig;
  result?: CniResult;
  remote?: RemoteEndpoint;
  pluginAddress?: PluginAddress;
}

export interface EndpointAddress {
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
}

export interface PluginEndpointsDeps {
  networks: Pick<NetworkService, 'networkPlugin' | 'ipamPlugin' | 'confList' | 'plan' | 'reserved'>;
  cni: CniRunner;
  ipamDir: string;
  log: Logger;
}

/** Does a container's endpoint on `n` go through this module? */
export function involvesPlugin(n: NetworkRecord): boolean {
  return !!n.remote || !!n.ipamPool;
}

/** The bridge CNI list with the plugin's address instead of host-local (pure). */
export function withStaticAddress(list: NetworkConfList, cidr: string, gateway: string, internal: boolean): NetworkConfList {
  const [first, ...rest] = list.plugins;
  const ipam = { type: 'static', addresses: [{ address: cidr, gateway }], routes: internal ? [] : [{ dst: '0.0.0.0/0' }] };
  return { ...list, plugins: [{ ...first!, ipam }, ...rest] };
}

export class PluginEndpoints {
  constructor(private readonly d: PluginEndpointsDeps) {}

  async add(n: NetworkRecord, a: PluginAttachment, t: CniTarget, o: { staticIp?: string; primary: boolean; save: () => Promise<void> }): Promise<EndpointAddress> {
    try {
      return await this.steps(n, a, t, o);
    } catch (err) {
      await this.remove(a, t);
      throw err;
    }
  }

  private async steps(n: NetworkRecord, a: PluginAttachment, t: CniTarget, o: { staticIp?: string; primary: boolean; save: () => Promise<void> }): Promise<EndpointAddress> {
    const gateway = n.ipam.config[0]?.Gateway ?? '';
    let cidr = '';
    if (n.ipamPool) {
      const ipam = await this.d.networks.ipamPlugin(n.ipam.driver);
      const got = await ipam.requestAddress(n.ipamPool.poolId, o.staticIp ?? '', {});
      a.pluginAddress = { ipam: ipam.name, poolId: n.ipamPool.poolId, address: got };
      await o.save();
      const p = parseCidr(got);
      if (!p) throw new SystemError('network.ipam_plugin', `IPAM driver ${ipam.name} returned an invalid address: ${JSON.stringify(got)}`);
      cidr = `${formatIp(p.ip)}/${p.cidr.prefix}`;
    }
    if (!n.remote) {
      // a bridge network: its CNI plugin with the IPAM plugin's address
      a.confList = withStaticAddress(this.d.networks.confList(n), cidr, gateway, n.internal);
      await o.save();
      a.result = await this.d.cni.add(a.confList, t, a.rc);
      await o.save();
      const iface = a.result.interfaces?.find((i) => i.name === t.ifName && i.sandbox);
      return { ...split(cidr), gateway: a.result.ips?.[0]?.gateway ?? gateway, mac: iface?.mac ?? '' };
    }
    if (!a.pluginAddress) {
      // berth's IPAM: host-local alone hands out the address, as for its other networks
      const staticIp = o.staticIp ? parseIp(o.staticIp) : undefined;
      a.confList = hostLocalOnly(cniNetworkName(n.id), this.d.networks.plan(n), this.d.networks.reserved(n), this.d.ipamDir, staticIp);
      a.rc = o.staticIp ? { ips: [o.staticIp] } : {};
      await o.save();
      a.result = await this.d.cni.add(a.confList, t, a.rc);
      await o.save();
      cidr = a.result.ips?.[0]?.address ?? '';
      if (!cidr) throw new SystemError('network.cni_failed', 'host-local gave no address');
    }
    const driver = await this.d.networks.networkPlugin(n.driver);
    const ep: RemoteEndpoint = { driver: n.driver, endpointId: newId() };
    a.remote = ep;
    await o.save();
    const out = await driver.createEndpoint(n.id, ep.endpointId, { Address: cidr, MacAddress: '' }, {});
    ep.created = true;
    await o.save();
    // libnetwork: an address IPAM gave may not be changed by the driver
    if (out?.Address && out.Address !== cidr) throw new SystemError('network.remote_endpoint', `driver modified interface address: ${out.Address}`);
    const mac = checkMac(out?.MacAddress);
    const ans = await driver.join(n.id, ep.endpointId, t.netns, {});
    ep.joined = true;
    await o.save();
    const { srcName, dstPrefix } = checkJoinAnswer(ans);
    const dstName = dstPrefix === 'eth' ? t.ifName : `${dstPrefix}${t.ifName.replace(/^eth/, '')}`;
    await moveIntoSandbox(srcName, dstName, t.netns, joinCommands(srcName, dstName, cidr, mac, ans, o.primary && !n.internal));
    ep.srcName = srcName;
    ep.dstName = dstName;
    await o.save();
    return { ...split(cidr), gateway: ans.Gateway ?? '', mac: mac ?? (await macIn(t.netns, dstName)) };
  }

  /** Undoes the endpoint: the plugin's link back and Leave/DeleteEndpoint, the CNI part, the IPAM address. */
  async remove(a: PluginAttachment, t: CniTarget): Promise<void> {
    const log = this.d.log;
    if (a.remote) {
      const driver = await this.d.networks.networkPlugin(a.remote.driver).catch((err: Error) => {
        log.warn('network plugin unavailable for an endpoint removal', { driver: a.remote!.driver, error: err.message });
        return undefined;
      });
      await undoEndpoint(driver, a.networkId, a.remote, t.netns, log);
    }
    await this.d.cni.del(a.confList, t, a.rc, a.result).catch((err: Error) => log.warn('CNI DEL failed', { id: t.containerId, error: err.message }));
    if (a.pluginAddress) {
      const { ipam, poolId, address } = a.pluginAddress;
      await this.d.networks.ipamPlugin(ipam).then((p) => p.releaseAddress(poolId, address.split('/')[0]!))
        .catch((err: Error) => log.warn('IPAM ReleaseAddress failed', { id: t.containerId, address, error: err.message }));
    }
  }
}

function split(cidr: string): { ip: string; prefix: number } {
  const [ip = '', prefix = '0'] = cidr.split('/');
  return { ip, prefix: Number(prefix) };
}

/** observe(): reads everything the planner compares, in parallel, and reduces it to plain data. */
import type { MaasClient } from '../../maas/client.js';
import { serviceState, type RackController, type Subnet } from '../../maas/types.js';
import { normalizeAddress, parseNetwork } from '../../util/ip.js';
import type { DesiredNetwork } from '../../config/network.js';
import type { ObservedRack, ObservedState, ObservedSubnet } from './observed.js';

export async function observe(client: MaasClient, desired: DesiredNetwork, signal?: AbortSignal): Promise<ObservedState> {
  const settingNames = Object.keys(desired.settings);
  const [subnets, ranges, racks, settingValues, bootResources] = await Promise.all([
    client.listSubnets(signal),
    client.listIpRanges(signal),
    client.listRackControllers(signal),
    Promise.all(settingNames.map((name) => client.getConfig(name, signal))),
    desired.importBootResources
      ? Promise.all([client.listBootResources(signal), client.isImporting(signal)]).then(([list, importing]) => ({ count: list.length, importing }))
      : Promise.resolve(undefined),
  ]);
  return {
    subnets: subnets.map(toObservedSubnet),
    ranges: ranges.map((r) => ({
      id: r.id,
      subnetId: r.subnet.id,
      type: r.type,
      start: normalizeAddress(r.start_ip) ?? r.start_ip,
      end: normalizeAddress(r.end_ip) ?? r.end_ip,
      comment: r.comment ?? '',
    })),
    racks: racks.map(toObservedRack),
    settings: Object.fromEntries(settingNames.map((name, i) => [name, settingValues[i]])),
    ...(bootResources ? { bootResources } : {}),
  };
}

export function toObservedSubnet(subnet: Subnet): ObservedSubnet {
  return {
    id: subnet.id,
    cidr: parseNetwork(subnet.cidr)?.text ?? subnet.cidr,
    gatewayIp: subnet.gateway_ip === null ? null : (normalizeAddress(subnet.gateway_ip) ?? subnet.gateway_ip),
    dnsServers: subnet.dns_servers.map((ip) => normalizeAddress(ip) ?? ip),
    vlan: {
      id: subnet.vlan.id,
      fabricId: subnet.vlan.fabric_id,
      vid: subnet.vlan.vid,
      dhcpOn: subnet.vlan.dhcp_on,
      primaryRack: subnet.vlan.primary_rack,
      secondaryRack: subnet.vlan.secondary_rack,
    },
  };
}

export function toObservedRack(rack: RackController): ObservedRack {
  return {
    systemId: rack.system_id,
    hostname: rack.hostname,
    rackd: serviceState(rack, 'rackd'),
    dhcpd: serviceState(rack, 'dhcpd'),
    vlanIds: [...new Set(rack.interface_set.flatMap((i) => (i.vlan ? [i.vlan.id] : [])))],
    addresses: rack.interface_set.flatMap((i) =>
      i.links.flatMap((link) =>
        link.ip_address && link.subnet ? [{ subnetId: link.subnet.id, ip: normalizeAddress(link.ip_address) ?? link.ip_address }] : [],
      ),
    ),
  };
}

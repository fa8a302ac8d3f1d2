/**
 * The apply step: applyAction() makes one MAAS write per action. VLAN writes are read back: the
 * sidecar acts only on what MAAS holds, and MAAS's VLAN form applies rules of its own (clearing the
 * primary promotes the secondary, or leaves DHCP on with no rack to serve it).
 */
import type { MaasClient } from '../../maas/client.js';
import type { Vlan } from '../../maas/types.js';
import { NotConvergedError } from '../../errors.js';
import type { Action } from './plan.js';

/** Performs `action` and returns what MAAS holds afterwards, for the change log. */
export async function applyAction(client: MaasClient, action: Action, signal?: AbortSignal): Promise<unknown> {
  switch (action.kind) {
    case 'setSubnetNetworking': {
      const subnet = await client.updateSubnet(
        action.subnetId,
        {
          ...(action.gatewayIp === undefined ? {} : { gateway_ip: action.gatewayIp }),
          ...(action.dnsServers === undefined ? {} : { dns_servers: action.dnsServers }),
        },
        signal,
      );
      return { gatewayIp: subnet.gateway_ip, dnsServers: subnet.dns_servers };
    }
    case 'createIpRange': {
      const range = await client.createIpRange(
        { type: action.type, start_ip: action.start, end_ip: action.end, subnet: action.subnetId, comment: action.comment },
        signal,
      );
      return { id: range.id, type: range.type, start: range.start_ip, end: range.end_ip };
    }
    case 'updateIpRange': {
      const range = await client.updateIpRange(action.rangeId, { start_ip: action.start, end_ip: action.end, comment: action.comment }, signal);
      return { id: range.id, start: range.start_ip, end: range.end_ip, comment: range.comment };
    }
    case 'deleteIpRange':
      await client.deleteIpRange(action.rangeId, signal);
      return null;
    case 'clearSecondaryRack':
      return vlanWrite(client, action.vlan, { secondary_rack: null }, (v) => v.secondary_rack === null, signal);
    case 'setDhcpPrimary':
      return vlanWrite(
        client,
        action.vlan,
        { dhcp_on: true, primary_rack: action.primaryRack },
        (v) => v.dhcp_on && v.primary_rack === action.primaryRack,
        signal,
      );
    case 'setSecondaryRack':
      return vlanWrite(client, action.vlan, { secondary_rack: action.secondaryRack }, (v) => v.secondary_rack === action.secondaryRack, signal);
    case 'disableDhcp':
      return vlanWrite(client, action.vlan, { dhcp_on: false }, (v) => !v.dhcp_on, signal);
    case 'setConfig':
      await client.setConfig(action.name, action.value, signal);
      return action.value;
    case 'importBootResources':
      return client.importBootResources(signal);
  }
}

async function vlanWrite(
  client: MaasClient,
  vlan: { fabricId: number; vid: number },
  update: Parameters<MaasClient['updateVlan']>[2],
  holds: (v: Vlan) => boolean,
  signal?: AbortSignal,
): Promise<unknown> {
  await client.updateVlan(vlan.fabricId, vlan.vid, update, signal);
  const after = await client.getVlan(vlan.fabricId, vlan.vid, signal);
  const state = { dhcpOn: after.dhcp_on, primaryRack: after.primary_rack, secondaryRack: after.secondary_rack };
  if (!holds(after)) {
    throw new NotConvergedError(`MAAS accepted the update of VLAN ${vlan.vid} on fabric ${vlan.fabricId} but reads back ${JSON.stringify(state)}`);
  }
  return state;
}

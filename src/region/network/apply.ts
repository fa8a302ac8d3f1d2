/**
 * apply(): one MAAS write per action. VLAN writes are read back: the sidecar acts only on what
 * MAAS holds, and MAAS's VLAN form applies rules of its own (clearing the primary promotes the
 * secondary, or leaves DHCP on with no rack to serve it).
 */
import type { MaasClient } from '../../maas/client.js';
import type { Vlan } from '../../maas/types.js';
import { NotConvergedError } from '../../errors.js';
import type { Action, VlanRef } from './plan.js';

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

/** A short human description with before and after, for `maas-sidecar plan`, logs and error context. */
export function describeAction(action: Action): string {
  const vlan = (ref: VlanRef) => `VLAN ${ref.vid} (fabric ${ref.fabricId})`;
  switch (action.kind) {
    case 'setSubnetNetworking': {
      const changes = [
        ...(action.gatewayIp === undefined ? [] : [`gateway ${action.before.gatewayIp ?? 'none'} -> ${action.gatewayIp}`]),
        ...(action.dnsServers === undefined ? [] : [`DNS ${list(action.before.dnsServers)} -> ${list(action.dnsServers)}`]),
      ];
      return `set subnet ${action.cidr} ${changes.join(', ')}`;
    }
    case 'createIpRange':
      return `create ${action.type} range ${action.start}-${action.end} on ${action.cidr}`;
    case 'updateIpRange':
      return `move range ${action.rangeId} on ${action.cidr} from ${action.before.start}-${action.before.end} to ${action.start}-${action.end}`;
    case 'deleteIpRange':
      return `delete ${action.before.type} range ${action.rangeId} (${action.before.start}-${action.before.end}) on ${action.cidr}`;
    case 'clearSecondaryRack':
      return `clear the secondary rack ${action.before} of ${vlan(action.vlan)}`;
    case 'setDhcpPrimary':
      return `turn DHCP on with primary ${action.primaryRack} for ${vlan(action.vlan)} (was ${action.before.dhcpOn ? 'on' : 'off'}, primary ${action.before.primaryRack ?? 'none'})`;
    case 'setSecondaryRack':
      return `set secondary ${action.secondaryRack} for ${vlan(action.vlan)} (was ${action.before ?? 'none'})`;
    case 'disableDhcp':
      return `turn DHCP off for ${vlan(action.vlan)}`;
    case 'setConfig':
      return `set MAAS setting ${action.name}`;
    case 'importBootResources':
      return 'start a boot-resources import';
  }
}

const list = (ips: readonly string[]): string => (ips.length === 0 ? 'none' : ips.join(' '));

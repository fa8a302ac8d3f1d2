/** Actions in words, apart from the applier: `maas-sidecar plan` shows them without loading it. */
import type { Action, VlanRef } from './plan.js';

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

/** Builders for planner inputs: a small, readable starting state, overridable per test. */
import type { ObservedRack, ObservedRange, ObservedState, ObservedSubnet, ObservedVlan } from '../../src/region/network/observed.js';
import { parseNetworkConfig, type DesiredNetwork } from '../../src/config/network.js';
import { OWNER_MARKER } from '../../src/region/network/plan.js';

export const CIDR = '10.7.200.0/24';

export function vlan(over: Partial<ObservedVlan> = {}): ObservedVlan {
  return { id: 5001, fabricId: 0, vid: 0, dhcpOn: false, primaryRack: null, secondaryRack: null, ...over };
}

export function subnet(over: Partial<ObservedSubnet> = {}): ObservedSubnet {
  return { id: 1, cidr: CIDR, gatewayIp: null, dnsServers: [], vlan: vlan(), ...over };
}

export function rack(hostname: string, over: Partial<ObservedRack> = {}): ObservedRack {
  return { systemId: `id-${hostname}`, hostname, rackd: 'running', dhcpd: 'off', vlanIds: [5001], addresses: [], ...over };
}

export function range(over: Partial<ObservedRange> & Pick<ObservedRange, 'start' | 'end'>): ObservedRange {
  return { id: 1, subnetId: 1, type: 'dynamic', comment: `${OWNER_MARKER} (dynamic)`, ...over };
}

export function observed(over: Partial<ObservedState> = {}): ObservedState {
  return { subnets: [subnet()], ranges: [], racks: [], settings: {}, ...over };
}

export const BASE_YAML = `
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dnsServers: [10.7.200.1]
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
`;

/** BASE_YAML plus a reserved range and a setting: every resource kind the reconciler writes. */
export const FULL_YAML = `${BASE_YAML}    reservedRanges: [{ start: 10.7.200.2, end: 10.7.200.9, comment: switches }]
settings: { upstream_dns: 192.0.2.53 }
`;

export function desired(yaml = BASE_YAML): DesiredNetwork {
  return parseNetworkConfig(yaml, 'network.yaml');
}

/** The observed state once BASE_YAML is converged with the given racks. */
export function converged(racks: ObservedRack[], vlanOver: Partial<ObservedVlan> = {}): ObservedState {
  return observed({
    subnets: [
      subnet({
        gatewayIp: '10.7.200.1',
        dnsServers: ['10.7.200.1'],
        vlan: vlan({ dhcpOn: true, primaryRack: racks[0]?.systemId ?? null, secondaryRack: racks[1]?.systemId ?? null, ...vlanOver }),
      }),
    ],
    ranges: [range({ start: '10.7.200.100', end: '10.7.200.200' })],
    racks,
  });
}

/** What MAAS holds, reduced to what the planner compares: plain data, no client types. */
import type { ServiceState } from '../../protocol/labels.js';

export interface ObservedVlan {
  readonly id: number;
  readonly fabricId: number;
  readonly vid: number;
  readonly dhcpOn: boolean;
  readonly primaryRack: string | null;
  readonly secondaryRack: string | null;
}

export interface ObservedSubnet {
  readonly id: number;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly dnsServers: readonly string[];
  readonly vlan: ObservedVlan;
}

export interface ObservedRange {
  readonly id: number;
  readonly subnetId: number;
  readonly type: string;
  readonly start: string;
  readonly end: string;
  readonly comment: string;
}

export interface ObservedRack {
  readonly systemId: string;
  readonly hostname: string;
  readonly rackd: ServiceState;
  readonly dhcpd: ServiceState;
  /** VLANs (database ids) the rack has an interface on. */
  readonly vlanIds: readonly number[];
  /** Addresses the rack holds, by subnet id. */
  readonly addresses: readonly { readonly subnetId: number; readonly ip: string }[];
}

export interface ObservedState {
  readonly subnets: readonly ObservedSubnet[];
  readonly ranges: readonly ObservedRange[];
  readonly racks: readonly ObservedRack[];
  /** Current values of the declared settings only, as get_config returned them. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Present only when an import is declared. */
  readonly bootResources?: { readonly count: number; readonly importing: boolean };
}

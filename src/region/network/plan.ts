/**
 * plan(desired, observed): the ordered MAAS writes that make observed match desired, and the
 * conflicts that block some of them. Pure: no I/O, no clock, so every rule is a table test.
 *
 * Ownership: ranges the sidecar creates carry OWNER_MARKER in their comment. Only those are ever
 * updated or deleted; anything else that stands in the way is reported, never touched.
 */
import type { DesiredNetwork, DesiredRange, DesiredSubnet } from '../../config/network.js';
import type { ObservedRack, ObservedRange, ObservedState, ObservedSubnet, ObservedVlan } from './observed.js';
import type { ConflictKind, DriftField } from '../../protocol/labels.js';
import { parseAddress } from '../../util/ip.js';

export const OWNER_MARKER = 'managed-by: maas-sidecar';

type RangeType = 'dynamic' | 'reserved';

export interface VlanRef {
  readonly fabricId: number;
  readonly vid: number;
  readonly vlanId: number;
}

export type Action =
  | {
      readonly kind: 'setSubnetNetworking';
      readonly field: DriftField;
      readonly subnetId: number;
      readonly cidr: string;
      readonly gatewayIp?: string;
      readonly dnsServers?: readonly string[];
      readonly before: { readonly gatewayIp: string | null; readonly dnsServers: readonly string[] };
    }
  | {
      readonly kind: 'createIpRange';
      readonly field: 'ip_range';
      readonly cidr: string;
      readonly subnetId: number;
      readonly type: RangeType;
      readonly start: string;
      readonly end: string;
      readonly comment: string;
    }
  | {
      readonly kind: 'updateIpRange';
      readonly field: 'ip_range';
      readonly cidr: string;
      readonly rangeId: number;
      readonly start: string;
      readonly end: string;
      readonly comment: string;
      readonly before: { readonly start: string; readonly end: string; readonly comment: string };
    }
  | {
      readonly kind: 'deleteIpRange';
      readonly field: 'ip_range';
      readonly cidr: string;
      readonly rangeId: number;
      readonly before: { readonly type: string; readonly start: string; readonly end: string };
    }
  | { readonly kind: 'clearSecondaryRack'; readonly field: 'secondary_rack'; readonly vlan: VlanRef; readonly before: string }
  | {
      readonly kind: 'setDhcpPrimary';
      readonly field: 'dhcp_on' | 'primary_rack';
      readonly vlan: VlanRef;
      readonly primaryRack: string;
      readonly before: { readonly dhcpOn: boolean; readonly primaryRack: string | null };
    }
  | {
      readonly kind: 'setSecondaryRack';
      readonly field: 'secondary_rack';
      readonly vlan: VlanRef;
      readonly secondaryRack: string;
      readonly before: string | null;
    }
  | { readonly kind: 'disableDhcp'; readonly field: 'dhcp_on'; readonly vlan: VlanRef }
  | { readonly kind: 'setConfig'; readonly field: 'setting'; readonly name: string; readonly value: string; readonly before: unknown }
  | { readonly kind: 'importBootResources'; readonly field: 'boot_resources' };

export interface Conflict {
  readonly kind: ConflictKind;
  readonly cidr?: string;
  readonly message: string;
}

export interface Plan {
  readonly actions: readonly Action[];
  readonly conflicts: readonly Conflict[];
}

export function isOwned(range: ObservedRange): boolean {
  return range.comment.startsWith(OWNER_MARKER);
}

export function ownedComment(type: RangeType, comment?: string): string {
  return comment ? `${OWNER_MARKER} (${type}): ${comment}` : `${OWNER_MARKER} (${type})`;
}

const value = (ip: string): bigint => parseAddress(ip)?.value ?? -1n;
const overlaps = (a: { start: string; end: string }, b: { start: string; end: string }): boolean =>
  value(a.start) <= value(b.end) && value(b.start) <= value(a.end);
const covers = (r: { start: string; end: string }, ip: string): boolean => value(ip) >= value(r.start) && value(ip) <= value(r.end);
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

interface Buckets {
  readonly networking: Action[];
  readonly deletes: Action[];
  readonly updates: Action[];
  readonly creates: Action[];
  readonly vlans: Action[];
  readonly settings: Action[];
  readonly boot: Action[];
}

export function plan(desired: DesiredNetwork, observed: ObservedState): Plan {
  const buckets: Buckets = { networking: [], deletes: [], updates: [], creates: [], vlans: [], settings: [], boot: [] };
  const conflicts: Conflict[] = [];
  /** VLAN id → whether some declared subnet wants DHCP there and has a usable dynamic range. */
  const dhcpWanted = new Map<number, { vlan: ObservedVlan; want: boolean; blocked: boolean; cidr: string }>();

  for (const subnet of desired.subnets) {
    const current = observed.subnets.find((s) => s.cidr === subnet.cidr);
    if (!current) {
      conflicts.push({
        kind: 'subnet_missing',
        cidr: subnet.cidr,
        message: `MAAS has no subnet ${subnet.cidr} yet (it appears when a rack with an interface on it registers)`,
      });
      continue;
    }
    planNetworking(subnet, current, buckets);
    const rangeReady = planRanges(subnet, current, observed, buckets, conflicts);
    const entry = dhcpWanted.get(current.vlan.id) ?? { vlan: current.vlan, want: false, blocked: false, cidr: subnet.cidr };
    if (subnet.dhcp) {
      entry.want = true;
      if (!rangeReady) entry.blocked = true;
    }
    dhcpWanted.set(current.vlan.id, entry);
  }

  for (const { vlan, want, blocked, cidr } of dhcpWanted.values()) {
    if (!want) {
      if (vlan.dhcpOn) buckets.vlans.push({ kind: 'disableDhcp', field: 'dhcp_on', vlan: ref(vlan) });
      continue;
    }
    if (blocked) {
      conflicts.push({ kind: 'dhcp_blocked', cidr, message: `DHCP on ${cidr} waits for its dynamic range, which is blocked` });
      continue;
    }
    planDhcp(vlan, cidr, observed.racks, buckets, conflicts);
  }

  for (const [name, wanted] of Object.entries(desired.settings)) {
    const current = observed.settings[name];
    if (normalizeSetting(name, current) !== normalizeSetting(name, wanted)) {
      buckets.settings.push({ kind: 'setConfig', field: 'setting', name, value: wanted, before: current ?? null });
    }
  }

  const boot = observed.bootResources;
  if (desired.importBootResources && boot && boot.count === 0 && !boot.importing) {
    buckets.boot.push({ kind: 'importBootResources', field: 'boot_resources' });
  }

  return {
    actions: [...buckets.networking, ...buckets.deletes, ...buckets.updates, ...buckets.creates, ...buckets.vlans, ...buckets.settings, ...buckets.boot],
    conflicts,
  };
}

function ref(vlan: ObservedVlan): VlanRef {
  return { fabricId: vlan.fabricId, vid: vlan.vid, vlanId: vlan.id };
}

function normalizeSetting(name: string, raw: unknown): string {
  const text = raw === null || raw === undefined ? '' : Array.isArray(raw) ? raw.join(' ') : String(raw);
  return name === 'upstream_dns' || name === 'ntp_servers'
    ? text
        .split(/[,\s]+/)
        .filter(Boolean)
        .join(' ')
    : text;
}

function planNetworking(subnet: DesiredSubnet, current: ObservedSubnet, buckets: Buckets): void {
  const gatewayDrift = subnet.gateway !== undefined && subnet.gateway !== current.gatewayIp;
  const dnsDrift = subnet.dnsServers !== undefined && !sameList(subnet.dnsServers, current.dnsServers);
  if (!gatewayDrift && !dnsDrift) return;
  buckets.networking.push({
    kind: 'setSubnetNetworking',
    field: gatewayDrift ? 'gateway_ip' : 'dns_servers',
    subnetId: current.id,
    cidr: current.cidr,
    ...(gatewayDrift ? { gatewayIp: subnet.gateway } : {}),
    ...(dnsDrift ? { dnsServers: subnet.dnsServers } : {}),
    before: { gatewayIp: current.gatewayIp, dnsServers: current.dnsServers },
  });
}

/** Plans the subnet's ranges; returns whether a dynamic range will exist after the plan runs. */
function planRanges(subnet: DesiredSubnet, current: ObservedSubnet, observed: ObservedState, buckets: Buckets, conflicts: Conflict[]): boolean {
  const inSubnet = observed.ranges.filter((r) => r.subnetId === current.id);
  const owned = inSubnet.filter(isOwned);
  const foreign = inSubnet.filter((r) => !isOwned(r));
  const claimed = new Set<number>();
  // After this plan the subnet has the declared gateway and DNS (or keeps the current ones).
  const gateway = subnet.gateway ?? current.gatewayIp;
  const dns = subnet.dnsServers ?? current.dnsServers;
  const rackIps = observed.racks.flatMap((r) => r.addresses.filter((a) => a.subnetId === current.id).map((a) => a.ip));

  const want = (type: RangeType, declared: DesiredRange): boolean => {
    const comment = ownedComment(type, declared.comment);
    const exact = owned.find((r) => !claimed.has(r.id) && r.type === type && r.start === declared.start && r.end === declared.end);
    if (exact) {
      claimed.add(exact.id);
      if (exact.comment !== comment) {
        buckets.updates.push({
          kind: 'updateIpRange',
          field: 'ip_range',
          cidr: subnet.cidr,
          rangeId: exact.id,
          start: declared.start,
          end: declared.end,
          comment,
          before: { start: exact.start, end: exact.end, comment: exact.comment },
        });
      }
      return true;
    }
    // Someone made exactly this range by hand: it already does the job, and it is theirs.
    if (foreign.some((r) => r.type === type && r.start === declared.start && r.end === declared.end)) return true;

    const blockers = [
      ...foreign.filter((r) => overlaps(r, declared)).map((r) => `${r.type} range ${r.start}-${r.end} (id ${r.id}, not ours)`),
      ...(type === 'dynamic'
        ? [
            ...(gateway && covers(declared, gateway) ? [`the gateway ${gateway}`] : []),
            ...dns.filter((ip) => covers(declared, ip)).map((ip) => `DNS server ${ip}`),
            ...rackIps.filter((ip) => covers(declared, ip)).map((ip) => `rack address ${ip}`),
          ]
        : []),
    ];
    if (blockers.length > 0) {
      conflicts.push({
        kind: 'range_conflict',
        cidr: subnet.cidr,
        message: `declared ${type} range ${declared.start}-${declared.end} overlaps ${blockers.join(', ')}`,
      });
      return false;
    }
    // Move one of our own ranges of this type rather than creating a second one.
    const movable = owned.find((r) => !claimed.has(r.id) && r.type === type);
    if (movable) {
      claimed.add(movable.id);
      buckets.updates.push({
        kind: 'updateIpRange',
        field: 'ip_range',
        cidr: subnet.cidr,
        rangeId: movable.id,
        start: declared.start,
        end: declared.end,
        comment,
        before: { start: movable.start, end: movable.end, comment: movable.comment },
      });
      return true;
    }
    buckets.creates.push({
      kind: 'createIpRange',
      field: 'ip_range',
      cidr: subnet.cidr,
      subnetId: current.id,
      type,
      start: declared.start,
      end: declared.end,
      comment,
    });
    return true;
  };

  const dynamicReady = subnet.dynamicRange ? want('dynamic', subnet.dynamicRange) : false;
  for (const reserved of subnet.reservedRanges) want('reserved', reserved);
  // Our ranges that nothing declares any more (or duplicates left by a race) go.
  for (const stale of owned.filter((r) => !claimed.has(r.id))) {
    buckets.deletes.push({
      kind: 'deleteIpRange',
      field: 'ip_range',
      cidr: subnet.cidr,
      rangeId: stale.id,
      before: { type: stale.type, start: stale.start, end: stale.end },
    });
  }
  return dynamicReady;
}

function byName(a: ObservedRack, b: ObservedRack): number {
  return a.hostname.localeCompare(b.hostname) || a.systemId.localeCompare(b.systemId);
}

/**
 * Primary: keep a healthy current one (no flapping), else promote a healthy secondary, else the
 * first healthy rack by name. Secondary: only when two or more healthy racks share the VLAN.
 */
function planDhcp(vlan: ObservedVlan, cidr: string, racks: readonly ObservedRack[], buckets: Buckets, conflicts: Conflict[]): void {
  const healthy = racks.filter((r) => r.vlanIds.includes(vlan.id) && r.rackd === 'running').sort(byName);
  const isHealthy = (systemId: string | null) => systemId !== null && healthy.some((r) => r.systemId === systemId);
  if (healthy.length === 0) {
    conflicts.push({ kind: 'no_healthy_rack', cidr, message: `no healthy rack controller has an interface on the VLAN of ${cidr}` });
    return;
  }
  const primary = isHealthy(vlan.primaryRack)
    ? (vlan.primaryRack as string)
    : isHealthy(vlan.secondaryRack)
      ? (vlan.secondaryRack as string)
      : (healthy[0] as ObservedRack).systemId;
  const others = healthy.filter((r) => r.systemId !== primary);
  const secondary =
    others.length === 0 ? null : isHealthy(vlan.secondaryRack) && vlan.secondaryRack !== primary ? vlan.secondaryRack : (others[0] as ObservedRack).systemId;

  const vlanRef = ref(vlan);
  const primaryChanges = vlan.primaryRack !== primary;
  let secondaryNow = vlan.secondaryRack;
  // MAAS's form compares against the VLAN's current racks; clearing the secondary first keeps
  // every intermediate state valid when the primary moves.
  if (primaryChanges && secondaryNow !== null) {
    buckets.vlans.push({ kind: 'clearSecondaryRack', field: 'secondary_rack', vlan: vlanRef, before: secondaryNow });
    secondaryNow = null;
  }
  if (primaryChanges || !vlan.dhcpOn) {
    buckets.vlans.push({
      kind: 'setDhcpPrimary',
      field: vlan.dhcpOn ? 'primary_rack' : 'dhcp_on',
      vlan: vlanRef,
      primaryRack: primary,
      before: { dhcpOn: vlan.dhcpOn, primaryRack: vlan.primaryRack },
    });
  }
  if (secondary !== secondaryNow) {
    if (secondary === null) buckets.vlans.push({ kind: 'clearSecondaryRack', field: 'secondary_rack', vlan: vlanRef, before: secondaryNow as string });
    else buckets.vlans.push({ kind: 'setSecondaryRack', field: 'secondary_rack', vlan: vlanRef, secondaryRack: secondary, before: secondaryNow });
  }
}

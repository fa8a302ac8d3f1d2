/** Records → MAAS API JSON, field for field as MAAS's handlers display them. */
import type { SimIpRange, SimModel, SimRack, SimSubnet, SimUser, SimVlan } from './model.js';

const API = '/MAAS/api/2.0';

export function renderUser(user: SimUser): Record<string, unknown> {
  return {
    is_superuser: user.isSuperuser,
    username: user.username,
    email: user.email,
    is_local: true,
    resource_uri: `${API}/users/${user.username}/`,
  };
}

export function renderVlan(model: SimModel, vlan: SimVlan, depth = 0): Record<string, unknown> {
  const fabric = model.fabrics.get(vlan.fabricId);
  const relay = vlan.relayVlanId === null ? undefined : model.vlans.get(vlan.relayVlanId);
  return {
    vid: vlan.vid,
    mtu: vlan.mtu,
    dhcp_on: vlan.dhcpOn,
    external_dhcp: null,
    relay_vlan: relay && depth === 0 ? renderVlan(model, relay, depth + 1) : null,
    fabric: fabric?.name ?? `fabric-${vlan.fabricId}`,
    fabric_id: vlan.fabricId,
    primary_rack: vlan.primaryRack,
    secondary_rack: vlan.secondaryRack,
    name: vlan.name,
    space: vlan.space ?? 'undefined',
    id: vlan.id,
    resource_uri: `${API}/vlans/${vlan.id}/`,
  };
}

export function renderSubnet(model: SimModel, subnet: SimSubnet): Record<string, unknown> {
  const vlan = model.vlans.get(subnet.vlanId);
  if (!vlan) throw new Error(`subnet ${subnet.id} points at missing VLAN ${subnet.vlanId}`);
  return {
    name: subnet.name,
    description: subnet.description,
    vlan: renderVlan(model, vlan),
    cidr: subnet.cidr,
    rdns_mode: subnet.rdnsMode,
    gateway_ip: subnet.gatewayIp,
    dns_servers: [...subnet.dnsServers],
    allow_dns: subnet.allowDns,
    allow_proxy: subnet.allowProxy,
    active_discovery: subnet.activeDiscovery,
    managed: subnet.managed,
    disabled_boot_architectures: [],
    space: vlan.space ?? 'undefined',
    id: subnet.id,
    resource_uri: `${API}/subnets/${subnet.id}/`,
  };
}

export function renderFabric(model: SimModel, fabricId: number): Record<string, unknown> {
  const fabric = model.fabrics.get(fabricId);
  return {
    class_type: null,
    id: fabricId,
    name: fabric?.name,
    vlans: [...model.vlans.values()].filter((v) => v.fabricId === fabricId).map((v) => renderVlan(model, v)),
    resource_uri: `${API}/fabrics/${fabricId}/`,
  };
}

export function renderIpRange(model: SimModel, range: SimIpRange): Record<string, unknown> {
  const subnet = model.subnets.get(range.subnetId);
  const user = range.userId === null ? undefined : model.users.get(range.userId);
  return {
    subnet: subnet ? renderSubnet(model, subnet) : null,
    type: range.type,
    start_ip: range.startIp,
    end_ip: range.endIp,
    user: user ? renderUser(user) : null,
    comment: range.comment,
    id: range.id,
    resource_uri: `${API}/ipranges/${range.id}/`,
  };
}

/** dhcpd runs on a live rack that is primary or secondary of a VLAN with DHCP on. */
export function dhcpdStatus(model: SimModel, rack: SimRack): string {
  if (rack.rackd === 'dead') return 'dead';
  const serves = [...model.vlans.values()].some((v) => v.dhcpOn && (v.primaryRack === rack.systemId || v.secondaryRack === rack.systemId));
  return serves ? 'running' : 'off';
}

/** MAAS's status fields of a node that was never commissioned or tested (-1 "Unknown", as MAAS renders them). */
const UNTESTED = Object.fromEntries(
  ['cpu', 'memory', 'storage', 'interface', 'network', 'other'].flatMap((kind) => [
    [`${kind}_test_status`, -1],
    [`${kind}_test_status_name`, 'Unknown'],
  ]),
);

const HARDWARE_INFO = Object.fromEntries(
  [
    'system_vendor system_product system_family system_version system_sku system_serial cpu_model',
    'mainboard_vendor mainboard_product mainboard_serial mainboard_version mainboard_firmware_vendor',
    'mainboard_firmware_date mainboard_firmware_version chassis_vendor chassis_type chassis_serial chassis_version',
  ]
    .join(' ')
    .split(' ')
    .map((key) => [key, 'Unknown']),
);

/** A rack controller as MAAS 3.5 renders one that registered (its hardware not commissioned). */
export function renderRack(model: SimModel, rack: SimRack): Record<string, unknown> {
  const dhcpd = dhcpdStatus(model, rack);
  const other = rack.rackd === 'running' ? 'running' : 'dead';
  return {
    system_id: rack.systemId,
    hostname: rack.hostname,
    description: '',
    hardware_uuid: null,
    domain: { authoritative: true, ttl: null, id: 0, resource_record_count: 0, is_default: true, name: 'maas', resource_uri: `${API}/domains/0/` },
    fqdn: `${rack.hostname}.maas`,
    architecture: null,
    cpu_count: 0,
    cpu_speed: 0,
    memory: 0,
    swap_size: null,
    osystem: '',
    distro_series: '',
    power_type: '',
    power_state: 'unknown',
    hardware_info: HARDWARE_INFO,
    commissioning_status: 0,
    commissioning_status_name: 'Pending',
    testing_status: -1,
    testing_status_name: 'Unknown',
    ...UNTESTED,
    current_commissioning_result_id: 1,
    current_installation_result_id: null,
    current_testing_result_id: null,
    ip_addresses: rack.interfaces.flatMap((i) => i.links.map((l) => l.ip)),
    interface_set: rack.interfaces.map((iface) => {
      const vlan = model.vlans.get(iface.vlanId);
      return {
        id: iface.id,
        name: iface.name,
        type: 'physical',
        mac_address: iface.mac,
        enabled: true,
        link_connected: true,
        link_speed: 0,
        interface_speed: 0,
        effective_mtu: vlan?.mtu ?? 1500,
        numa_node: 0,
        sriov_max_vf: 0,
        params: {},
        tags: [],
        parents: [],
        children: [],
        discovered: null,
        product: null,
        vendor: null,
        firmware_version: null,
        system_id: rack.systemId,
        vlan: vlan ? renderVlan(model, vlan) : null,
        links: iface.links.map((link) => {
          const subnet = model.subnets.get(link.subnetId);
          return {
            id: link.id,
            mode: 'static',
            ip_address: link.ip,
            ...(subnet ? { subnet: renderSubnet(model, subnet) } : {}),
          };
        }),
        resource_uri: `${API}/nodes/${rack.systemId}/interfaces/${iface.id}/`,
      };
    }),
    zone: { name: 'default', description: '', id: 1, resource_uri: `${API}/zones/default/` },
    status_action: null,
    node_type: 2,
    node_type_name: 'Rack controller',
    service_set: [
      { name: 'rackd', status: rack.rackd, status_info: rack.rackd === 'dead' ? 'Not connected to region' : '' },
      { name: 'ntp_rack', status: other, status_info: '' },
      { name: 'agent', status: other, status_info: '' },
      { name: 'dns_rack', status: other, status_info: '' },
      { name: 'http', status: other, status_info: '' },
      { name: 'syslog_rack', status: other, status_info: '' },
      { name: 'tftp', status: other, status_info: '' },
      { name: 'proxy_rack', status: other, status_info: '' },
      { name: 'dhcpd', status: dhcpd, status_info: '' },
      { name: 'dhcpd6', status: rack.rackd === 'dead' ? 'dead' : 'off', status_info: '' },
    ],
    version: '3.5.13',
    tag_names: [],
    resource_uri: `${API}/rackcontrollers/${rack.systemId}/`,
  };
}

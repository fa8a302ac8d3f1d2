/**
 * The contract table: every call the MAAS client makes, and every rule test/simulator/ claims the
 * simulator reproduces, as a scenario run against the simulator and a real MAAS 3.5 region from
 * the same baseline (see backends.ts). Each scenario's setup must succeed on both; its last
 * request is compared (status, error body, key set and value types, and the listed values).
 */
import type { Request } from './backends.js';

export type Step = Request & {
  /** Keep a field of the JSON answer as a ref for later steps, e.g. `{ range: 'id' }`. */
  readonly capture?: Readonly<Record<string, string>>;
};

/** Not an API call: the rack's rackd goes dead or comes back, as when rackd stops or reconnects. */
export interface RackdStep {
  readonly rackd: 'rack1' | 'rack2' | 'rack3';
  readonly status: 'running' | 'dead';
}

export interface Scenario {
  readonly name: string;
  readonly setup?: readonly (Step | RackdStep)[];
  readonly request: Request;
  /** Paths whose values must be equal too (after ids are put back as refs), e.g. `allow_dns`, `[].type`. */
  readonly values?: readonly string[];
  /** Parts of the bodies that differ by nature (a nonce, a clock reading), masked before comparing. */
  readonly mask?: readonly RegExp[];
}

const VLAN = 'fabrics/{fabric}/vlans/{vid}/';
const SUBNET = 'subnets/{subnet}/';
const dynamic = (start = '10.7.200.100', end = '10.7.200.200'): Step => ({
  method: 'POST',
  path: 'ipranges/',
  form: { type: 'dynamic', start_ip: start, end_ip: end, subnet: '{subnet}', comment: 'managed-by: maas-sidecar' },
  capture: { range: 'id' },
});
const reserved = (start: string, end: string): Step => ({
  method: 'POST',
  path: 'ipranges/',
  form: { type: 'reserved', start_ip: start, end_ip: end, comment: 'switches' },
  capture: { range: 'id' },
});
const putVlan = (form: Record<string, string>): Step => ({ method: 'PUT', path: VLAN, form });
const putSubnet = (form: Record<string, string>): Step => ({ method: 'PUT', path: SUBNET, form });
const setConfig = (name: string, value?: string): Request => ({
  method: 'POST',
  path: 'maas/',
  form: { op: 'set_config', name, ...(value === undefined ? {} : { value }) },
});
const getConfig = (name: string): Request => ({ method: 'GET', path: `maas/?op=get_config&name=${name}` });

const VLAN_VALUES = ['dhcp_on', 'primary_rack', 'secondary_rack', 'relay_vlan', 'mtu'];
const SUBNET_VALUES = ['gateway_ip', 'dns_servers', 'allow_dns', 'allow_proxy', 'managed', 'rdns_mode'];
const RANGE_VALUES = ['type', 'start_ip', 'end_ip', 'comment', 'user.username', 'subnet.cidr'];

/** Reads the client makes. */
const READS: readonly Scenario[] = [
  { name: 'GET version/ (anonymous)', request: { method: 'GET', path: 'version/', auth: 'none' }, values: ['version', 'subversion'] },
  { name: 'GET users/?op=whoami as the admin', request: { method: 'GET', path: 'users/?op=whoami' }, values: ['is_superuser', 'is_local'] },
  { name: 'GET users/?op=whoami as a normal user', request: { method: 'GET', path: 'users/?op=whoami', auth: 'user' }, values: ['is_superuser'] },
  {
    name: 'GET subnets/',
    request: { method: 'GET', path: 'subnets/' },
    values: ['[].cidr', ...SUBNET_VALUES.map((v) => `[].${v}`), '[].vlan.vid', '[].vlan.dhcp_on'],
  },
  { name: 'GET subnets/{id}/', request: { method: 'GET', path: SUBNET }, values: SUBNET_VALUES },
  { name: 'GET ipranges/ (none)', request: { method: 'GET', path: 'ipranges/' } },
  {
    name: 'GET ipranges/ (a dynamic and a reserved range)',
    setup: [dynamic(), reserved('10.7.200.2', '10.7.200.9')],
    request: { method: 'GET', path: 'ipranges/' },
    values: RANGE_VALUES.map((v) => `[].${v}`),
  },
  {
    name: 'GET rackcontrollers/',
    request: { method: 'GET', path: 'rackcontrollers/' },
    values: ['[].node_type', '[].node_type_name', '[].service_set[].name'],
  },
  {
    name: 'GET rackcontrollers/{system_id}/',
    request: { method: 'GET', path: 'rackcontrollers/{rack1}/' },
    values: ['system_id', 'interface_set[].links[].subnet.cidr', 'interface_set[].links[].mode'],
  },
  { name: 'GET fabrics/{f}/vlans/{vid}/', request: { method: 'GET', path: VLAN }, values: [...VLAN_VALUES, 'fabric', 'name'] },
  { name: 'GET fabrics/{f}/vlans/{vlan id}/ (by database id)', request: { method: 'GET', path: 'fabrics/{fabric}/vlans/{vlan}/' }, values: ['vid'] },
  { name: 'GET fabrics/', request: { method: 'GET', path: 'fabrics/' } },
  { name: 'GET fabrics/{f}/vlans/', request: { method: 'GET', path: 'fabrics/{fabric}/vlans/' } },
  { name: 'GET maas/?op=get_config upstream_dns (unset)', request: getConfig('upstream_dns') },
  { name: 'GET maas/?op=get_config dnssec_validation', request: getConfig('dnssec_validation') },
  { name: 'GET maas/?op=get_config ntp_servers', request: getConfig('ntp_servers') },
  { name: 'GET maas/?op=get_config maas_name', request: getConfig('maas_name') },
  { name: 'GET maas/?op=get_config unknown name', request: getConfig('bogus_setting') },
  { name: 'GET maas/?op=get_config without a name', request: { method: 'GET', path: 'maas/?op=get_config' } },
  { name: 'GET boot-resources/', request: { method: 'GET', path: 'boot-resources/' } },
  { name: 'GET boot-resources/?op=is_importing', request: { method: 'GET', path: 'boot-resources/?op=is_importing' } },
  { name: 'POST boot-resources/?op=import', request: { method: 'POST', path: 'boot-resources/?op=import' } },
  {
    name: 'GET subnets/{id}/?op=reserved_ip_ranges',
    setup: [putSubnet({ gateway_ip: '10.7.200.1' }), reserved('10.7.200.10', '10.7.200.19')],
    request: { method: 'GET', path: `${SUBNET}?op=reserved_ip_ranges` },
  },
  {
    name: 'GET subnets/{id}/?op=unreserved_ip_ranges',
    setup: [reserved('10.7.200.10', '10.7.200.19')],
    request: { method: 'GET', path: `${SUBNET}?op=unreserved_ip_ranges` },
  },
  { name: 'GET subnets/{id}/?op=statistics', setup: [reserved('10.7.200.10', '10.7.200.19')], request: { method: 'GET', path: `${SUBNET}?op=statistics` } },
];

/** Subnet writes the client makes, and MAAS's subnet rules. */
const SUBNETS: readonly Scenario[] = [
  {
    name: 'PUT subnet gateway and DNS',
    request: { method: 'PUT', path: SUBNET, form: { gateway_ip: '10.7.200.1', dns_servers: '10.7.200.1 192.0.2.53' } },
    values: SUBNET_VALUES,
  },
  { name: 'PUT subnet DNS comma separated', request: { method: 'PUT', path: SUBNET, form: { dns_servers: '10.7.200.1,192.0.2.53' } }, values: ['dns_servers'] },
  {
    name: 'PUT subnet only gateway_ip keeps allow_dns, allow_proxy, managed',
    setup: [putSubnet({ allow_dns: 'false', allow_proxy: 'false', managed: 'false' })],
    request: { method: 'PUT', path: SUBNET, form: { gateway_ip: '10.7.200.1' } },
    values: SUBNET_VALUES,
  },
  {
    name: 'GET subnet after a PUT that set only gateway_ip',
    setup: [putSubnet({ allow_dns: 'false', allow_proxy: 'false' }), putSubnet({ gateway_ip: '10.7.200.1' })],
    request: { method: 'GET', path: SUBNET },
    values: SUBNET_VALUES,
  },
  {
    name: 'PUT subnet with an empty gateway clears it',
    setup: [putSubnet({ gateway_ip: '10.7.200.1' })],
    request: { method: 'PUT', path: SUBNET, form: { gateway_ip: '' } },
    values: SUBNET_VALUES,
  },
  {
    name: 'GET subnet after its gateway was cleared',
    setup: [putSubnet({ gateway_ip: '10.7.200.1' }), putSubnet({ gateway_ip: '' })],
    request: { method: 'GET', path: SUBNET },
    values: SUBNET_VALUES,
  },
  { name: 'PUT subnet with a gateway outside the CIDR', request: { method: 'PUT', path: SUBNET, form: { gateway_ip: '192.0.2.1' } } },
  { name: 'PUT subnet with a malformed gateway', request: { method: 'PUT', path: SUBNET, form: { gateway_ip: '10.7.200.300' } } },
  { name: 'PUT subnet with a bad DNS server', request: { method: 'PUT', path: SUBNET, form: { dns_servers: '10.7.200.1 dns.example' } } },
  { name: 'PUT subnet with space', request: { method: 'PUT', path: SUBNET, form: { space: 'undefined' } } },
  { name: 'PUT subnet with a bad CIDR', request: { method: 'PUT', path: SUBNET, form: { cidr: '10.7.200.0/33' } } },
  { name: 'PUT subnet with a bad rdns_mode', request: { method: 'PUT', path: SUBNET, form: { rdns_mode: '7' } } },
  { name: 'PUT subnet allow_dns=yes is false', request: { method: 'PUT', path: SUBNET, form: { allow_dns: 'yes' } }, values: ['allow_dns'] },
  {
    name: 'PUT subnet allow_dns=T is true',
    setup: [putSubnet({ allow_dns: 'false' })],
    request: { method: 'PUT', path: SUBNET, form: { allow_dns: 'T' } },
    values: ['allow_dns'],
  },
  { name: 'GET an unknown subnet', request: { method: 'GET', path: 'subnets/99999/' } },
  { name: 'GET subnet by cidr: specifier', request: { method: 'GET', path: 'subnets/cidr:10.7.200.0%2F24/' }, values: ['cidr'] },
  { name: 'GET subnet by vid: specifier', request: { method: 'GET', path: 'subnets/vid:{vid}/' }, values: ['cidr'] },
];

const IP_RANGES: readonly Scenario[] = [
  { name: 'POST a dynamic range', request: dynamic(), values: RANGE_VALUES },
  { name: 'POST a reserved range without subnet (inferred)', request: reserved('10.7.200.2', '10.7.200.9'), values: RANGE_VALUES },
  { name: 'POST a dynamic range as a normal user', request: { ...dynamic(), auth: 'user' } },
  { name: 'POST a reserved range as a normal user', request: { ...reserved('10.7.200.2', '10.7.200.9'), auth: 'user' }, values: RANGE_VALUES },
  {
    name: "PUT someone else's range as a normal user",
    setup: [reserved('10.7.200.2', '10.7.200.9')],
    request: { method: 'PUT', path: 'ipranges/{range}/', form: { comment: 'mine' }, auth: 'user' },
  },
  { name: 'POST a range without type', request: { method: 'POST', path: 'ipranges/', form: { start_ip: '10.7.200.2', end_ip: '10.7.200.9' } } },
  { name: 'POST a range without addresses', request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved' } } },
  {
    name: 'POST a range without end_ip',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '10.7.200.2', subnet: '{subnet}' } },
  },
  {
    name: 'POST a range of mixed address families',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '10.7.200.2', end_ip: '2001:db8::9' } },
  },
  {
    name: 'POST a range whose end is before its start',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '10.7.200.9', end_ip: '10.7.200.2', subnet: '{subnet}' } },
  },
  {
    name: 'POST a range outside the subnet',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '192.0.2.2', end_ip: '192.0.2.9', subnet: '{subnet}' } },
  },
  {
    name: 'POST a range whose end is outside the subnet',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '10.7.200.250', end_ip: '10.7.201.9', subnet: '{subnet}' } },
  },
  {
    name: 'POST a range with no subnet to infer',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '192.0.2.2', end_ip: '192.0.2.9' } },
  },
  {
    name: 'POST a range covering the network address',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '10.7.200.0', end_ip: '10.7.200.9', subnet: '{subnet}' } },
  },
  {
    name: 'POST a range covering the broadcast address',
    request: { method: 'POST', path: 'ipranges/', form: { type: 'reserved', start_ip: '10.7.200.250', end_ip: '10.7.200.255', subnet: '{subnet}' } },
  },
  { name: 'POST a dynamic range covering the gateway', setup: [putSubnet({ gateway_ip: '10.7.200.150' })], request: dynamic() },
  {
    name: 'POST a reserved range covering the gateway',
    setup: [putSubnet({ gateway_ip: '10.7.200.150' })],
    request: reserved('10.7.200.140', '10.7.200.160'),
    values: RANGE_VALUES,
  },
  { name: 'POST a dynamic range covering an in-subnet DNS server', setup: [putSubnet({ dns_servers: '10.7.200.150' })], request: dynamic() },
  { name: 'POST a dynamic range overlapping a range', setup: [reserved('10.7.200.90', '10.7.200.110')], request: dynamic() },
  { name: 'POST a reserved range overlapping a range', setup: [dynamic()], request: reserved('10.7.200.150', '10.7.200.250') },
  {
    name: 'PUT a range to new addresses and comment',
    setup: [dynamic()],
    request: {
      method: 'PUT',
      path: 'ipranges/{range}/',
      form: { start_ip: '10.7.200.120', end_ip: '10.7.200.220', comment: 'managed-by: maas-sidecar (moved)' },
    },
    values: RANGE_VALUES,
  },
  {
    name: 'PUT a range onto another range',
    setup: [reserved('10.7.200.2', '10.7.200.9'), dynamic()],
    request: { method: 'PUT', path: 'ipranges/{range}/', form: { start_ip: '10.7.200.5', end_ip: '10.7.200.200' } },
  },
  { name: 'DELETE a range', setup: [dynamic()], request: { method: 'DELETE', path: 'ipranges/{range}/' } },
  { name: 'GET a deleted range', setup: [dynamic(), { method: 'DELETE', path: 'ipranges/{range}/' }], request: { method: 'GET', path: 'ipranges/{range}/' } },
  { name: 'PUT an unknown range', request: { method: 'PUT', path: 'ipranges/99999/', form: { comment: 'x' } } },
  { name: 'DELETE an unknown range', request: { method: 'DELETE', path: 'ipranges/99999/' } },
];

/** VLAN writes: DHCP and its racks. */
const VLANS: readonly Scenario[] = [
  { name: 'PUT VLAN dhcp_on without a dynamic range', request: { method: 'PUT', path: VLAN, form: { dhcp_on: 'true' } } },
  { name: 'PUT VLAN dhcp_on with a range but no primary rack', setup: [dynamic()], request: { method: 'PUT', path: VLAN, form: { dhcp_on: 'true' } } },
  {
    name: 'PUT VLAN dhcp_on with the primary rack in the same PUT',
    setup: [dynamic()],
    request: { method: 'PUT', path: VLAN, form: { dhcp_on: 'true', primary_rack: '{rack1}' } },
    values: VLAN_VALUES,
  },
  {
    name: 'GET rackcontrollers/ with DHCP on',
    setup: [dynamic(), putVlan({ dhcp_on: 'true', primary_rack: '{rack1}' })],
    request: { method: 'GET', path: 'rackcontrollers/' },
  },
  { name: 'PUT VLAN primary rack by hostname', request: { method: 'PUT', path: VLAN, form: { primary_rack: 'contract-rack1' } }, values: ['primary_rack'] },
  { name: 'PUT VLAN primary rack without an interface on the VLAN', request: { method: 'PUT', path: VLAN, form: { primary_rack: '{rack3}' } } },
  {
    name: 'PUT VLAN secondary equal to the current primary',
    setup: [putVlan({ primary_rack: '{rack1}' })],
    request: { method: 'PUT', path: VLAN, form: { secondary_rack: '{rack1}' } },
  },
  {
    name: 'PUT VLAN primary and secondary the same rack',
    request: { method: 'PUT', path: VLAN, form: { primary_rack: '{rack1}', secondary_rack: '{rack1}' } },
  },
  {
    name: 'PUT VLAN primary and secondary',
    setup: [dynamic(), putVlan({ dhcp_on: 'true', primary_rack: '{rack1}' })],
    request: { method: 'PUT', path: VLAN, form: { secondary_rack: '{rack2}' } },
    values: VLAN_VALUES,
  },
  {
    name: 'PUT VLAN secondary while the primary rackd is dead',
    setup: [putVlan({ primary_rack: '{rack1}' }), { rackd: 'rack1', status: 'dead' }],
    request: { method: 'PUT', path: VLAN, form: { secondary_rack: '{rack2}' } },
  },
  {
    name: 'PUT VLAN clear the primary promotes the secondary',
    setup: [putVlan({ primary_rack: '{rack1}', secondary_rack: '{rack2}' })],
    request: { method: 'PUT', path: VLAN, form: { primary_rack: '' } },
    values: VLAN_VALUES,
  },
  {
    name: 'PUT VLAN secondary becomes primary',
    setup: [putVlan({ primary_rack: '{rack1}', secondary_rack: '{rack2}' })],
    request: { method: 'PUT', path: VLAN, form: { primary_rack: '{rack2}' } },
    values: VLAN_VALUES,
  },
  {
    name: 'PUT VLAN clear the secondary',
    setup: [dynamic(), putVlan({ dhcp_on: 'true', primary_rack: '{rack1}', secondary_rack: '{rack2}' })],
    request: { method: 'PUT', path: VLAN, form: { secondary_rack: '' } },
    values: VLAN_VALUES,
  },
  {
    name: 'PUT VLAN clear the only rack of a DHCP VLAN',
    setup: [dynamic(), putVlan({ dhcp_on: 'true', primary_rack: '{rack1}' })],
    request: { method: 'PUT', path: VLAN, form: { primary_rack: '' } },
    values: VLAN_VALUES,
  },
  {
    name: 'PUT VLAN dhcp_on false',
    setup: [dynamic(), putVlan({ dhcp_on: 'true', primary_rack: '{rack1}' })],
    request: { method: 'PUT', path: VLAN, form: { dhcp_on: 'false' } },
    values: VLAN_VALUES,
  },
  { name: 'PUT VLAN mtu below 552', request: { method: 'PUT', path: VLAN, form: { mtu: '500' } } },
  { name: 'PUT VLAN on an unknown fabric', request: { method: 'PUT', path: 'fabrics/99999/vlans/0/', form: { mtu: '1500' } } },
  { name: 'GET an unknown VLAN', request: { method: 'GET', path: 'fabrics/{fabric}/vlans/77/' } },
  { name: 'PUT VLAN as a normal user', request: { method: 'PUT', path: VLAN, form: { mtu: '1500' }, auth: 'user' } },
];

const SETTINGS: readonly Scenario[] = [
  { name: 'POST set_config upstream_dns', request: setConfig('upstream_dns', '192.0.2.53 198.51.100.53') },
  {
    name: 'GET upstream_dns after a comma-separated set',
    setup: [setConfig('upstream_dns', '192.0.2.53,198.51.100.53')],
    request: getConfig('upstream_dns'),
    values: [''],
  },
  { name: 'POST set_config upstream_dns with a host name', request: setConfig('upstream_dns', '192.0.2.53 dns.example') },
  { name: 'POST set_config dnssec_validation outside auto|yes|no', request: setConfig('dnssec_validation', 'maybe') },
  { name: 'GET dnssec_validation after setting it', setup: [setConfig('dnssec_validation', 'no')], request: getConfig('dnssec_validation'), values: [''] },
  { name: 'POST set_config without a value', request: setConfig('maas_name') },
  { name: 'POST set_config unknown name', request: setConfig('bogus_setting', 'x') },
  { name: 'GET ntp_servers after setting ntp_server', setup: [setConfig('ntp_server', '192.0.2.123')], request: getConfig('ntp_servers'), values: [''] },
  { name: 'POST set_config as a normal user', request: { ...setConfig('maas_name', 'x'), auth: 'user' } },
];

/** OAuth failures and op dispatch. */
const AUTH: readonly Scenario[] = [
  { name: 'no credentials', request: { method: 'GET', path: 'subnets/', auth: 'none' } },
  { name: 'unknown consumer key', request: { method: 'GET', path: 'subnets/', auth: 'bad-consumer' } },
  { name: 'unknown token', request: { method: 'GET', path: 'subnets/', auth: 'bad-token' } },
  { name: 'wrong signature', request: { method: 'GET', path: 'subnets/', auth: 'bad-signature' } },
  { name: 'stale timestamp', request: { method: 'GET', path: 'subnets/', auth: 'stale-timestamp' }, mask: [/\d{10}/] },
  { name: 'reused nonce', request: { method: 'GET', path: 'subnets/', auth: 'reused-nonce' }, mask: [/used: [^']+/] },
  { name: 'no timestamp', request: { method: 'GET', path: 'subnets/', auth: 'no-timestamp' } },
  { name: 'an unknown op', request: { method: 'GET', path: 'subnets/?op=frobnicate' } },
];

/** One group per test file, so each file stays well inside tap's per-file time limit. */
export const SCENARIO_GROUPS = {
  reads: [...READS, ...SETTINGS, ...AUTH],
  subnets: [...SUBNETS, ...IP_RANGES],
  vlans: VLANS,
} as const;

/** describeAction: what `plan`, the change log and error context show, before and after, for every action kind. */
import t from 'tap';
import { describeAction } from '../../../src/region/network/describe.js';
import type { Action } from '../../../src/region/network/plan.js';

const vlan = { fabricId: 0, vid: 0, vlanId: 5001 };

const CASES: [Action, string][] = [
  [
    {
      kind: 'setSubnetNetworking',
      field: 'gateway_ip',
      subnetId: 1,
      cidr: '10.7.200.0/24',
      gatewayIp: '10.7.200.1',
      before: { gatewayIp: null, dnsServers: ['10.7.200.2'] },
    },
    'set subnet 10.7.200.0/24 gateway none -> 10.7.200.1',
  ],
  [
    {
      kind: 'setSubnetNetworking',
      field: 'dns_servers',
      subnetId: 1,
      cidr: '10.7.200.0/24',
      dnsServers: [],
      before: { gatewayIp: '10.7.200.1', dnsServers: ['10.7.200.2', '10.7.200.3'] },
    },
    'set subnet 10.7.200.0/24 DNS 10.7.200.2 10.7.200.3 -> none',
  ],
  [
    { kind: 'createIpRange', field: 'ip_range', cidr: '10.7.200.0/24', subnetId: 1, type: 'reserved', start: '10.7.200.2', end: '10.7.200.9', comment: 'x' },
    'create reserved range 10.7.200.2-10.7.200.9 on 10.7.200.0/24',
  ],
  [
    {
      kind: 'updateIpRange',
      field: 'ip_range',
      cidr: '10.7.200.0/24',
      rangeId: 7,
      start: '10.7.200.100',
      end: '10.7.200.200',
      comment: 'x',
      before: { start: '10.7.200.110', end: '10.7.200.190', comment: 'x' },
    },
    'move range 7 on 10.7.200.0/24 from 10.7.200.110-10.7.200.190 to 10.7.200.100-10.7.200.200',
  ],
  [
    { kind: 'deleteIpRange', field: 'ip_range', cidr: '10.7.200.0/24', rangeId: 8, before: { type: 'reserved', start: '10.7.200.2', end: '10.7.200.9' } },
    'delete reserved range 8 (10.7.200.2-10.7.200.9) on 10.7.200.0/24',
  ],
  [{ kind: 'clearSecondaryRack', field: 'secondary_rack', vlan, before: 'abc123' }, 'clear the secondary rack abc123 of VLAN 0 (fabric 0)'],
  [
    { kind: 'setDhcpPrimary', field: 'primary_rack', vlan, primaryRack: 'def456', before: { dhcpOn: true, primaryRack: 'abc123' } },
    'turn DHCP on with primary def456 for VLAN 0 (fabric 0) (was on, primary abc123)',
  ],
  [{ kind: 'setSecondaryRack', field: 'secondary_rack', vlan, secondaryRack: 'abc123', before: null }, 'set secondary abc123 for VLAN 0 (fabric 0) (was none)'],
  [{ kind: 'disableDhcp', field: 'dhcp_on', vlan }, 'turn DHCP off for VLAN 0 (fabric 0)'],
  [{ kind: 'setConfig', field: 'setting', name: 'upstream_dns', value: '192.0.2.53', before: null }, 'set MAAS setting upstream_dns'],
  [{ kind: 'importBootResources', field: 'boot_resources' }, 'start a boot-resources import'],
];

for (const [action, text] of CASES) {
  t.test(action.kind, async (t) => {
    t.equal(describeAction(action), text);
  });
}

import t from 'tap';
import { plan, OWNER_MARKER } from '../../../src/region/network/plan.js';
import { BASE_YAML, converged, desired, observed, rack, range, subnet, vlan } from '../../helpers/network.js';

const kinds = (p: ReturnType<typeof plan>) => p.actions.map((a) => a.kind);

t.test('a fresh region: networking, then the range, then DHCP with a primary, in that order', async (t) => {
  const p = plan(desired(), observed({ racks: [rack('a')] }));
  t.same(kinds(p), ['setSubnetNetworking', 'createIpRange', 'setDhcpPrimary']);
  t.match(p.actions[0], { gatewayIp: '10.7.200.1', dnsServers: ['10.7.200.1'] });
  t.match(p.actions[1], { type: 'dynamic', start: '10.7.200.100', end: '10.7.200.200', comment: `${OWNER_MARKER} (dynamic)` });
  t.match(p.actions[2], { primaryRack: 'id-a', field: 'dhcp_on' });
  t.same(p.conflicts, []);
});

t.test('converged state: empty plan', async (t) => {
  t.same(plan(desired(), converged([rack('a')])), { actions: [], conflicts: [] });
  t.same(plan(desired(), converged([rack('a'), rack('b')])), { actions: [], conflicts: [] });
});

t.test('a networking change carries only gateway and DNS: MAAS keeps the fields a PUT omits', async (t) => {
  const p = plan(desired(), observed({ subnets: [subnet()] }));
  t.same(Object.keys(p.actions[0] ?? {}).sort(), ['before', 'cidr', 'dnsServers', 'field', 'gatewayIp', 'kind', 'subnetId']);
});

t.test('gateway drift alone is corrected, DNS untouched when equal', async (t) => {
  const state = converged([rack('a')]);
  const drifted = { ...state, subnets: [{ ...state.subnets[0]!, gatewayIp: '10.7.200.254' }] };
  const p = plan(desired(), drifted);
  t.same(kinds(p), ['setSubnetNetworking']);
  t.match(p.actions[0], { field: 'gateway_ip', gatewayIp: '10.7.200.1', before: { gatewayIp: '10.7.200.254' } });
  t.notOk('dnsServers' in p.actions[0]!);
});

t.test('undeclared gateway and DNS are left alone', async (t) => {
  const p = plan(desired('subnets: [{ cidr: 10.7.200.0/24 }]'), observed({ subnets: [subnet({ gatewayIp: '10.7.200.9', dnsServers: ['192.0.2.1'] })] }));
  t.same(p.actions, []);
});

t.test('DHCP turned off behind our back: turned on again with the same primary', async (t) => {
  const p = plan(desired(), converged([rack('a')], { dhcpOn: false }));
  t.same(kinds(p), ['setDhcpPrimary']);
  t.match(p.actions[0], { primaryRack: 'id-a', field: 'dhcp_on' });
});

t.test('primary cleared behind our back: set again together with dhcp_on', async (t) => {
  const p = plan(desired(), converged([rack('a')], { primaryRack: null, dhcpOn: false }));
  t.same(kinds(p), ['setDhcpPrimary']);
});

t.test('a healthy current primary is kept even if another rack sorts first', async (t) => {
  const p = plan(desired(), converged([rack('z'), rack('a')], { primaryRack: 'id-z', secondaryRack: 'id-a' }));
  t.same(p.actions, []);
});

t.test('a dead primary: clear the secondary first, promote it, then pick a new secondary', async (t) => {
  const racks = [rack('a', { rackd: 'dead' }), rack('b'), rack('c')];
  const p = plan(desired(), converged(racks, { primaryRack: 'id-a', secondaryRack: 'id-b' }));
  t.same(kinds(p), ['clearSecondaryRack', 'setDhcpPrimary', 'setSecondaryRack']);
  t.match(p.actions[1], { primaryRack: 'id-b', field: 'primary_rack' });
  t.match(p.actions[2], { secondaryRack: 'id-c', before: null });
});

t.test('a second healthy rack becomes secondary', async (t) => {
  const p = plan(desired(), converged([rack('a'), rack('b')], { secondaryRack: null }));
  t.same(kinds(p), ['setSecondaryRack']);
  t.match(p.actions[0], { secondaryRack: 'id-b' });
});

t.test('a dead secondary with no replacement is cleared', async (t) => {
  const p = plan(desired(), converged([rack('a'), rack('b', { rackd: 'dead' })]));
  t.same(kinds(p), ['clearSecondaryRack']);
  t.match(p.actions[0], { before: 'id-b' });
});

t.test('racks without an interface on the VLAN are never chosen', async (t) => {
  const p = plan(desired(), observed({ racks: [rack('other', { vlanIds: [7777] })] }));
  t.notOk(kinds(p).includes('setDhcpPrimary'));
  t.match(p.conflicts, [{ kind: 'no_healthy_rack' }]);
});

t.test('dhcp: false turns DHCP off', async (t) => {
  const yaml = `${BASE_YAML}    dhcp: false\n`;
  const p = plan(desired(yaml), converged([rack('a')]));
  t.same(kinds(p), ['disableDhcp']);
});

t.test('a foreign range overlapping the dynamic range: conflict, no create, DHCP blocked', async (t) => {
  const foreign = range({ id: 9, type: 'reserved', start: '10.7.200.150', end: '10.7.200.160', comment: 'lab gear' });
  const p = plan(desired(), observed({ ranges: [foreign], racks: [rack('a')] }));
  t.same(kinds(p), ['setSubnetNetworking']);
  t.match(p.conflicts, [
    { kind: 'range_conflict', message: /overlaps reserved range 10\.7\.200\.150-10\.7\.200\.160 \(id 9, not ours\)/ },
    { kind: 'dhcp_blocked' },
  ]);
});

t.test('a rack address inside the declared dynamic range is a conflict', async (t) => {
  const p = plan(desired(), observed({ racks: [rack('a', { addresses: [{ subnetId: 1, ip: '10.7.200.150' }] })] }));
  t.match(p.conflicts, [{ kind: 'range_conflict', message: /rack address 10\.7\.200\.150/ }, { kind: 'dhcp_blocked' }]);
});

t.test('the current gateway inside the range does not block it when the gateway is being moved', async (t) => {
  const p = plan(desired(), observed({ subnets: [subnet({ gatewayIp: '10.7.200.150' })], racks: [rack('a')] }));
  t.same(kinds(p), ['setSubnetNetworking', 'createIpRange', 'setDhcpPrimary']);
});

t.test('an identical range made by hand is accepted and left alone', async (t) => {
  const hand = range({ id: 4, start: '10.7.200.100', end: '10.7.200.200', comment: 'made in the UI' });
  const state = converged([rack('a')]);
  const p = plan(desired(), { ...state, ranges: [hand] });
  t.same(p, { actions: [], conflicts: [] });
});

t.test('our dynamic range with other bounds is moved, not duplicated', async (t) => {
  const state = converged([rack('a')]);
  const p = plan(desired(), { ...state, ranges: [range({ id: 3, start: '10.7.200.50', end: '10.7.200.60' })] });
  t.same(kinds(p), ['updateIpRange']);
  t.match(p.actions[0], { rangeId: 3, start: '10.7.200.100', end: '10.7.200.200', before: { start: '10.7.200.50' } });
});

t.test('duplicates of our range (two sidecars raced) are deleted, the exact one kept', async (t) => {
  const state = converged([rack('a')]);
  const p = plan(desired(), {
    ...state,
    ranges: [range({ id: 3, start: '10.7.200.100', end: '10.7.200.200' }), range({ id: 8, start: '10.7.200.100', end: '10.7.200.200' })],
  });
  t.same(kinds(p), ['deleteIpRange']);
  t.match(p.actions[0], { rangeId: 8 });
});

t.test('a stale range of ours is deleted before new ones are created', async (t) => {
  const yaml = `${BASE_YAML}    reservedRanges: [{ start: 10.7.200.10, end: 10.7.200.20, comment: switches }]\n`;
  const state = converged([rack('a')]);
  const stale = range({ id: 5, type: 'reserved', start: '10.7.200.30', end: '10.7.200.40', comment: `${OWNER_MARKER} (reserved)` });
  const p = plan(desired(yaml), { ...state, ranges: [...state.ranges, stale] });
  t.same(kinds(p), ['updateIpRange']);
  t.match(p.actions[0], { rangeId: 5, start: '10.7.200.10', comment: `${OWNER_MARKER} (reserved): switches` });
  const noReserved = plan(desired(), { ...state, ranges: [...state.ranges, stale] });
  t.same(kinds(noReserved), ['deleteIpRange']);
});

t.test('foreign ranges are never updated or deleted', async (t) => {
  const foreign = range({ id: 9, type: 'reserved', start: '10.7.200.2', end: '10.7.200.9', comment: 'someone else' });
  const state = converged([rack('a')]);
  const p = plan(desired(), { ...state, ranges: [...state.ranges, foreign] });
  t.same(p.actions, []);
});

t.test('a declared subnet MAAS does not have: conflict subnet_missing, nothing else', async (t) => {
  const p = plan(desired(), observed({ subnets: [] }));
  t.same(p.actions, []);
  t.match(p.conflicts, [{ kind: 'subnet_missing', cidr: '10.7.200.0/24' }]);
});

t.test('settings: set when different, normalised lists compare equal', async (t) => {
  const yaml = `${BASE_YAML}settings:\n  upstream_dns: [192.0.2.53, 198.51.100.53]\n  dnssec_validation: 'no'\n`;
  const p = plan(desired(yaml), { ...converged([rack('a')]), settings: { upstream_dns: '192.0.2.53 198.51.100.53', dnssec_validation: 'auto' } });
  t.same(kinds(p), ['setConfig']);
  t.match(p.actions[0], { name: 'dnssec_validation', value: 'no', before: 'auto' });
});

t.test('boot resources: imported once when none exist and none is running', async (t) => {
  const yaml = `${BASE_YAML}bootResources: { import: true }\n`;
  const base = converged([rack('a')]);
  t.same(kinds(plan(desired(yaml), { ...base, bootResources: { count: 0, importing: false } })), ['importBootResources']);
  t.same(kinds(plan(desired(yaml), { ...base, bootResources: { count: 0, importing: true } })), []);
  t.same(kinds(plan(desired(yaml), { ...base, bootResources: { count: 3, importing: false } })), []);
});

t.test('two declared subnets on one VLAN give one DHCP decision', async (t) => {
  const yaml = `${BASE_YAML}  - cidr: 10.7.201.0/24\n    dynamicRange: { start: 10.7.201.100, end: 10.7.201.200 }\n`;
  const state = converged([rack('a')]);
  const second = subnet({ id: 2, cidr: '10.7.201.0/24', vlan: state.subnets[0]!.vlan });
  const p = plan(desired(yaml), { ...state, subnets: [...state.subnets, second] });
  t.same(kinds(p), ['createIpRange']);
});

t.test('vlan() helper sanity: the VLAN reference carries fabric and VID', async (t) => {
  const p = plan(desired(), observed({ subnets: [subnet({ vlan: vlan({ fabricId: 3, vid: 12, id: 77 }) })], racks: [rack('a', { vlanIds: [77] })] }));
  t.match(p.actions.at(-1), { kind: 'setDhcpPrimary', vlan: { fabricId: 3, vid: 12, vlanId: 77 } });
});

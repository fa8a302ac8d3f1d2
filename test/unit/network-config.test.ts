import t from 'tap';
import { parseNetworkConfig } from '../../src/config/network.js';
import { problemsOf } from '../helpers/config-problems.js';

const parse = (yaml: string) => parseNetworkConfig(yaml, 'network.yaml');

const problemsOfYaml = (yaml: string): string[] => problemsOf(() => parse(yaml));

t.test('a full declaration parses and normalises addresses', async (t) => {
  const d = parse(`
subnets:
  - cidr: fd00:7:200::/64
    gateway: FD00:7:200:0::1
    dynamicRange: { start: 'fd00:7:200::1000', end: 'fd00:7:200::1fff' }
settings: { upstream_dns: '192.0.2.53,198.51.100.53', dnssec_validation: 'yes' }
bootResources: { import: true }
`);
  t.match(d.subnets[0], { cidr: 'fd00:7:200::/64', gateway: 'fd00:7:200::1', dhcp: true });
  t.same(d.settings, { upstream_dns: '192.0.2.53 198.51.100.53', dnssec_validation: 'yes' });
  t.equal(d.importBootResources, true);
  t.ok(Object.isFrozen(d.subnets[0]));
});

const BAD: [string, string, RegExp][] = [
  ['not YAML', 'subnets: [', /not valid YAML/],
  ['no subnets key', 'settings: {}', /network\.yaml subnets is required/],
  ['unknown key', 'subnets: []\nsubnetz: []', /network\.yaml subnetz is not a known setting/],
  ['bad cidr', 'subnets: [{ cidr: 10.7.200.0 }]', /subnets\[0\]\.cidr must be network\/prefix/],
  ['host bits', 'subnets: [{ cidr: 10.7.200.5/24 }]', /has host bits set; the network is 10\.7\.200\.0\/24/],
  ['gateway outside', 'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.201.1 }]', /gateway 10\.7\.201\.1 is outside 10\.7\.200\.0\/24/],
  ['gateway network address', 'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.200.0 }]', /network or broadcast/],
  ['gateway broadcast', 'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.200.255 }]', /network or broadcast/],
  ['gateway not an IP', 'subnets: [{ cidr: 10.7.200.0/24, gateway: router }]', /gateway must be an IP address/],
  ['range outside', 'subnets: [{ cidr: 10.7.200.0/24, dynamicRange: { start: 10.7.200.100, end: 10.7.201.5 } }]', /is not inside/],
  ['range backwards', 'subnets: [{ cidr: 10.7.200.0/24, dynamicRange: { start: 10.7.200.200, end: 10.7.200.100 } }]', /start 10\.7\.200\.200 is after end/],
  ['range includes broadcast', 'subnets: [{ cidr: 10.7.200.0/24, dynamicRange: { start: 10.7.200.100, end: 10.7.200.255 } }]', /network or broadcast/],
  [
    'gateway in range',
    'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.200.150, dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 } }]',
    /gateway 10\.7\.200\.150 is inside the dynamic range/,
  ],
  [
    'dns in range',
    'subnets: [{ cidr: 10.7.200.0/24, dnsServers: [10.7.200.120], dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 } }]',
    /dnsServers 10\.7\.200\.120 is inside the dynamic range/,
  ],
  [
    'overlapping ranges',
    'subnets: [{ cidr: 10.7.200.0/24, dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }, reservedRanges: [{ start: 10.7.200.190, end: 10.7.200.210 }] }]',
    /dynamicRange overlaps .*reservedRanges\[0\]/,
  ],
  ['dhcp without range', 'subnets: [{ cidr: 10.7.200.0/24, dhcp: true }]', /dhcp needs a dynamicRange/],
  ['small v6 range', "subnets: [{ cidr: 'fd00::/64', dynamicRange: { start: 'fd00::10', end: 'fd00::20' } }]", /at least 256 addresses/],
  ['duplicate cidr', 'subnets: [{ cidr: 10.7.200.0/24 }, { cidr: 10.7.200.0/24 }]', /declared twice/],
  ['bad dnssec', "subnets: []\nsettings: { dnssec_validation: 'maybe' }", /settings\.dnssec_validation must be one of auto, yes, no \(got "maybe"\)/],
  ['bad upstream dns', "subnets: []\nsettings: { upstream_dns: 'dns.example' }", /upstream_dns has addresses that are not IPs: dns\.example/],
  ['wrong type', 'subnets: [{ cidr: 10.7.200.0/24, dhcp: sometimes }]', /subnets\[0\]\.dhcp must be boolean/],
];

for (const [name, yaml, expected] of BAD) {
  t.test(`rejected: ${name}`, async (t) => {
    const problems = problemsOfYaml(yaml);
    t.ok(
      problems.some((p) => expected.test(p)),
      `${problems.join(' | ')} ~ ${expected}`,
    );
  });
}

t.test('every problem is reported at once', async (t) => {
  const problems = problemsOfYaml('subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.201.1, dhcp: true }]');
  t.equal(problems.length, 2);
});

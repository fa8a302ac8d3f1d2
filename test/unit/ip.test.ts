import t from 'tap';
import { contains, normalizeAddress, parseAddress, parseNetwork } from '../../src/util/ip.js';

t.test('parseAddress accepts dotted quads and IPv6 only', async (t) => {
  t.ok(parseAddress('10.7.200.1'));
  t.ok(parseAddress('fd00::1'));
  for (const bad of ['10', '0x0a.0.0.1', '10.7.200', '10.7.200.256', '', 'fe80::1%eth0', 'host']) {
    t.equal(parseAddress(bad), null, bad);
  }
});

t.test('parseNetwork masks host bits and bounds the block', async (t) => {
  const network = parseNetwork('10.7.200.17/24');
  t.equal(network?.text, '10.7.200.0/24');
  t.ok(network && contains(network, parseAddress('10.7.200.255')!));
  t.notOk(network && contains(network, parseAddress('10.7.201.0')!));
  t.equal(parseNetwork('10.7.200.0/33'), null);
  t.equal(parseNetwork('10.7.200.0'), null);
  t.equal(parseNetwork('fd00::/64')?.text, 'fd00::/64');
});

t.test('normalizeAddress gives one canonical text', async (t) => {
  t.equal(normalizeAddress('FD00:0:0::0001'), 'fd00::1');
  t.equal(normalizeAddress(' 10.0.0.1 '), '10.0.0.1');
});

import t from 'tap';
import { decide, type DecisionInput } from '../../../src/rack/decide.js';
import type { RackStatus, RegionInfo } from '../../../src/protocol/v1.js';

const REGION: RegionInfo = { ready: true, url: 'http://region:5240/MAAS', secret: 'ab'.repeat(16), generation: '0123456789abcdef' };
const HEALTHY: RackStatus = { hostname: 'rack-a', registered: true, systemId: 'abc123', rackd: 'running', dhcpd: 'off', subnets: [] };
const base: DecisionInput = {
  region: REGION,
  local: { url: REGION.url, secret: REGION.secret },
  status: HEALTHY,
  unhealthySince: undefined,
  now: 100_000,
  graceMs: 60_000,
};

const CASES: [string, Partial<DecisionInput>, boolean, string][] = [
  ['no region information yet', { region: undefined }, false, 'waiting for the region'],
  ['nothing on disk', { local: {} }, true, 'not registered yet'],
  ['only a URL on disk', { local: { url: REGION.url } }, true, 'not registered yet'],
  ['URL differs', { local: { url: 'http://old:5240/MAAS', secret: REGION.secret } }, true, 'region URL changed'],
  ['secret differs (rotation)', { local: { url: REGION.url, secret: 'cd'.repeat(16) } }, true, 'region secret changed'],
  ['all matches and MAAS is happy', {}, false, 'registration matches the region'],
  ['all matches, region could not say', { status: undefined }, false, 'registration matches the region'],
  ['unknown to MAAS within grace', { status: { ...HEALTHY, registered: false }, unhealthySince: 90_000 }, false, 'within the grace period'],
  ['unknown to MAAS past grace', { status: { ...HEALTHY, registered: false }, unhealthySince: 10_000 }, true, 'unknown to MAAS'],
  ['rackd dead within grace', { status: { ...HEALTHY, rackd: 'dead' }, unhealthySince: 50_000 }, false, 'within the grace period'],
  ['rackd dead past grace', { status: { ...HEALTHY, rackd: 'dead' }, unhealthySince: 30_000 }, true, 'rackd dead'],
];

for (const [name, over, register, reason] of CASES) {
  t.test(name, async (t) => {
    t.same(decide({ ...base, ...over }), { register, reason });
  });
}

/**
 * Property: for any starting MAAS state, one reconcile pass leaves the declared state holding,
 * changes nothing the sidecar does not own, and leaves an empty plan behind.
 */
import t from 'tap';
import fc from 'fast-check';
import { startSimulator } from '../../helpers/simulator.js';
import { connectRack } from '../../helpers/racks.js';
import { memoryLogger } from '../../helpers/silent-logger.js';
import { reconcileNetwork } from '../../../src/region/network/reconcile.js';
import { desired, FULL_YAML } from '../../helpers/network.js';
import { plan } from '../../../src/region/network/plan.js';
import { observe } from '../../../src/region/network/observe.js';

const DESIRED = desired(FULL_YAML);

const host = (n: number) => `10.7.200.${n}`;

/** A starting state: hand-set gateway, foreign and stale-owned ranges, racks in any health, any DHCP setup. */
const startArb = fc.record({
  gateway: fc.option(fc.integer({ min: 1, max: 254 }), { nil: undefined }),
  foreign: fc.option(fc.record({ start: fc.integer({ min: 10, max: 240 }), len: fc.integer({ min: 0, max: 20 }) }), { nil: undefined }),
  ownedStale: fc.option(fc.record({ start: fc.integer({ min: 210, max: 240 }), len: fc.integer({ min: 0, max: 5 }) }), { nil: undefined }),
  racks: fc.array(fc.boolean(), { minLength: 0, maxLength: 3 }),
  primaryIndex: fc.option(fc.nat(2), { nil: undefined }),
});

t.test('converge from any starting state', async (t) => {
  await fc.assert(
    fc.asyncProperty(startArb, async (start) => {
      const teardowns: (() => unknown)[] = [];
      const s = await startSimulator({ teardown: (fn) => teardowns.push(fn) });
      try {
        const systemIds: string[] = [];
        for (const [i] of start.racks.entries()) systemIds.push(await connectRack(s, `rack-${i}`));
        for (const [i, alive] of start.racks.entries()) if (!alive) await s.control('POST', `racks/${systemIds[i]}/rackd`, { status: 'dead' });
        if (start.gateway !== undefined) await s.api('PUT', 'subnets/1/', { form: { gateway_ip: host(start.gateway) } });
        if (start.foreign) {
          await s.api('POST', 'ipranges/', {
            form: {
              type: 'reserved',
              start_ip: host(start.foreign.start),
              end_ip: host(Math.min(start.foreign.start + start.foreign.len, 250)),
              comment: 'theirs',
            },
          });
        }
        if (start.ownedStale) {
          await s.api('POST', 'ipranges/', {
            form: {
              type: 'reserved',
              start_ip: host(start.ownedStale.start),
              end_ip: host(start.ownedStale.start + start.ownedStale.len),
              comment: 'managed-by: maas-sidecar (reserved)',
            },
          });
        }
        const primary = start.primaryIndex === undefined ? undefined : systemIds[start.primaryIndex];
        if (primary) await s.api('PUT', 'fabrics/0/vlans/0/', { form: { primary_rack: primary } });

        const foreignBefore = (await s.client.listIpRanges()).filter((r) => !(r.comment ?? '').startsWith('managed-by: maas-sidecar'));
        const result = await reconcileNetwork({ client: s.client, desired: DESIRED, logger: memoryLogger().logger });

        // Nothing unowned changed.
        const after = await s.client.listIpRanges();
        for (const theirs of foreignBefore) {
          const now = after.find((r) => r.id === theirs.id);
          if (!now || now.start_ip !== theirs.start_ip || now.end_ip !== theirs.end_ip || now.comment !== theirs.comment)
            throw new Error(`foreign range ${theirs.id} changed`);
        }
        // The next plan is empty.
        const next = plan(DESIRED, await observe(s.client, DESIRED)).actions;
        if (next.length !== 0) throw new Error(`the next plan is not empty: ${next.map((a) => a.kind).join(', ')}`);
        // The declared state holds wherever nothing blocks it.
        const subnet = (await s.client.listSubnets()).find((x) => x.id === 1);
        if (subnet?.gateway_ip !== '10.7.200.1') throw new Error(`gateway is ${subnet?.gateway_ip}`);
        const vlan = await s.client.getVlan(0, 0);
        const healthy = start.racks.filter(Boolean).length;
        const blocked = result.conflicts.some((c) => c.kind === 'range_conflict' || c.kind === 'dhcp_blocked');
        if (!blocked && healthy > 0 && !vlan.dhcp_on) throw new Error('DHCP is off with a healthy rack and nothing blocking it');
        if (!blocked && healthy >= 2 && vlan.secondary_rack === null) throw new Error('no secondary rack with two healthy racks');
        const dynamic = after.filter((r) => r.type === 'dynamic');
        if (dynamic.length > 1) throw new Error(`${dynamic.length} dynamic ranges`);
      } finally {
        for (const fn of teardowns.reverse()) await fn();
      }
    }),
    { numRuns: 25 },
  );
  t.pass('25 random starting states converge, nothing foreign changed, the next plan is empty');
});

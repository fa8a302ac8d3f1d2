/**
 * A region secret rotation on a real MAAS 3.5 region (the kit's `rotate-secret`) followed by a rack
 * sidecar: the region sidecar publishes the new secret, the rack sidecar runs MAAS's own
 * `maas-rack register` with it, and MAAS lists the same rack with rackd running again.
 * The same story against the simulator: test/e2e/rack.test.ts.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { realMaasKit } from '../helpers/real-maas.js';
import { rackStory } from '../helpers/real-maas-stack.js';
import { sample, TOKEN } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const registrations = (metrics: string, result = 'success') => sample(metrics, `maas_sidecar_registrations_total{result="${result}"}`);

/** Why the rack sidecar ran maas-rack register, in order, from its log. */
function reasons(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; reason?: string };
      return entry.msg === 'registering the rack' ? [String(entry.reason)] : [];
    } catch {
      return [];
    }
  });
}

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test('a rack sidecar follows a real region secret rotation', async (t) => {
    const { maas, region, rack, startSidecar, runningInMaas, regionSecret } = await rackStory(t, kit);
    const sidecar = await startSidecar();
    const secrets = [await regionSecret()];
    // Registered before the rotation: the kit's region accepts such racks with the new secret.
    await waitFor(() => sidecar.ready(), { what: 'rack sidecar ready', timeoutMs: scaled(60_000), intervalMs: 100 });
    const registered = await waitFor(runningInMaas, { what: 'MAAS listing the rack with rackd running', timeoutMs: scaled(10_000), intervalMs: 200 });
    t.equal(registrations(await sidecar.metrics()), 1, 'registered once');

    await t.test('the rack registers again with the new secret', async (t) => {
      const before = await sidecar.status();
      await maas.run('rotate-secret');
      const rotated = await regionSecret();
      secrets.push(rotated);
      t.ok(rotated !== secrets[0], 'MAAS has a new secret');
      await waitFor(async () => (await readFile(rack.secretFile, 'utf8')).trim() === rotated, {
        what: 'the new secret on the rack',
        timeoutMs: scaled(30_000),
        intervalMs: 100,
      });
      await waitFor(async () => registrations(await sidecar.metrics()) === 2, { what: 'one more registration', timeoutMs: scaled(30_000), intervalMs: 100 });
      t.same(reasons(sidecar.proc.stdout), ['not registered yet', 'region secret changed'], 'registered first, then for the new secret');
      const listed = await waitFor(runningInMaas, { what: 'rackd running with the new secret', timeoutMs: scaled(30_000), intervalMs: 200 });
      t.equal(listed.system_id, registered.system_id, 'the same rack in MAAS');
      await waitFor(() => sidecar.ready(), { what: 'rack sidecar ready after the rotation', timeoutMs: scaled(30_000), intervalMs: 100 });
      const after = await sidecar.status();
      t.not(after.generation, before.generation, 'the new generation');
      t.equal(sidecar.proc.child.exitCode, null, 'the sidecar kept running');
      t.equal(registrations(await sidecar.metrics(), 'failure'), 0, 'no failed maas-rack register');
    });

    await t.test('nothing secret reached the logs', async (t) => {
      const output = [sidecar.output(), region.output()].join('\n');
      t.notOk(output.includes(TOKEN), 'no bearer token');
      t.notOk(
        secrets.some((s) => output.includes(s)),
        'no region secret, old or new',
      );
    });
  });
}

/**
 * The rack sidecar as a process with MAAS's own `maas-rack register` and rackd (the kit in
 * ../shared/real-maas, `up --rpc` and `rack-prepare`), and a region sidecar publishing the real
 * region's URL and secret: registered and confirmed by MAAS, not re-registered by a restart, and
 * re-registered when rackd stays dead. A secret rotation: rack-rotation.test.ts.
 * The same stories against the simulator: test/e2e/rack.test.ts.
 */
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { realMaasKit } from '../helpers/real-maas.js';
import { rackStory, service } from '../helpers/real-maas-stack.js';
import { sample, TOKEN } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const registrations = (metrics: string, result = 'success') => sample(metrics, `maas_sidecar_registrations_total{result="${result}"}`);

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test("the rack sidecar with MAAS's own maas-rack and rackd", async (t) => {
    const { maas, region, rack, startSidecar, inMaas, runningInMaas, regionSecret } = await rackStory(t, kit);
    let sidecar = await startSidecar();
    const outputs = [sidecar.output, region.output];
    let systemId = '';

    await t.test('registers with maas-rack register and is confirmed by MAAS', async (t) => {
      await waitFor(() => sidecar.ready(), { what: 'rack sidecar ready', timeoutMs: scaled(60_000), intervalMs: 100 });
      const status = await sidecar.status();
      t.equal(status.registered, true);
      const listed = await waitFor(runningInMaas, { what: 'MAAS listing the rack with rackd running', timeoutMs: scaled(10_000), intervalMs: 200 });
      systemId = listed.system_id;
      t.equal(status.systemId, systemId, 'the sidecar knows its system id from MAAS');
      t.equal(registrations(await sidecar.metrics()), 1, 'one maas-rack register');
      t.match(await readFile(rack.rackdConf, 'utf8'), maas.url, 'rackd.conf names the region URL');
      t.ok((await readFile(rack.secretFile, 'utf8')).trim() === (await regionSecret()), "the rack holds the region's secret (compared, never printed)");
    });

    await t.test('a restarted rack sidecar does not register again', async (t) => {
      const confMtime = (await stat(rack.rackdConf)).mtimeMs;
      sidecar.proc.child.kill('SIGTERM');
      t.equal(await sidecar.proc.exited, 0, 'SIGTERM: exit 0');
      t.ok(await runningInMaas(), 'rackd runs on without its sidecar');
      sidecar = await startSidecar();
      outputs.push(sidecar.output);
      await waitFor(() => sidecar.ready(), { what: 'restarted rack sidecar ready', timeoutMs: scaled(30_000), intervalMs: 100 });
      // Two more checks after ready, so a late decision would have shown.
      const passes = await sidecar.passes();
      await waitFor(async () => (await sidecar.passes()) >= passes + 2, { what: 'two more rack passes', timeoutMs: scaled(15_000), intervalMs: 100 });
      t.equal(registrations(await sidecar.metrics()), 0, 'no maas-rack register after the restart');
      t.notOk(sidecar.output().includes('registering the rack'), 'nor any attempt');
      t.equal((await stat(rack.rackdConf)).mtimeMs, confMtime, 'rackd.conf untouched');
      t.equal((await sidecar.status()).systemId, systemId);
      t.equal((await inMaas()).length, 1, 'still one rack of that name');
    });

    await t.test('rackd stopped: the sidecar registers again after the grace period', async (t) => {
      // rackd cannot look dead to anyone before it is stopped: a bound that no load can blur.
      const stoppedAt = Date.now();
      await maas.run('rackd-down', [rack.hostname]);
      await waitFor(async () => service((await inMaas())[0], 'rackd') === 'dead', {
        what: 'MAAS showing rackd dead',
        timeoutMs: scaled(20_000),
        intervalMs: 200,
      });
      const attempt = await sidecar.proc.waitForLog('registering the rack', scaled(30_000));
      t.equal(attempt.reason, 'rackd dead');
      t.ok((attempt.time as number) >= stoppedAt + 2_000, 'not before the grace period (REREGISTER_GRACE_SECONDS=2) had passed since rackd stopped');
      await waitFor(async () => registrations(await sidecar.metrics()) === 1, { what: 'the registration', timeoutMs: scaled(30_000), intervalMs: 100 });
      const listed = await waitFor(runningInMaas, { what: 'rackd running again in MAAS', timeoutMs: scaled(30_000), intervalMs: 200 });
      t.equal(listed.system_id, systemId, 'the same rack in MAAS');
      await waitFor(() => sidecar.ready(), { what: 'rack sidecar ready again', timeoutMs: scaled(30_000), intervalMs: 100 });
      t.equal(registrations(await sidecar.metrics()), 1, 'exactly one registration');
      t.equal(registrations(await sidecar.metrics(), 'failure'), 0, 'no failed maas-rack register');
    });

    await t.test('nothing secret reached the logs', async (t) => {
      const output = outputs.map((o) => o()).join('\n');
      t.notOk(output.includes(TOKEN), 'no bearer token');
      t.notOk(output.includes(await regionSecret()), 'no region secret');
    });
  });
}

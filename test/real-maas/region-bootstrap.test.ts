/**
 * The region sidecar as a process against a real MAAS 3.5 region (the kit in ../shared/real-maas):
 * it bootstraps through MAAS's own `maas-region` (createadmin, apikey) with a new admin whose
 * password comes from a file, publishes the region's shared secret, follows a rotation, and
 * reuses its admin after a restart.
 * The same stories against the simulator: test/e2e/region.test.ts.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ApiKey } from '../../src/maas/api-key.js';
import { realMaasKit, startRealMaas } from '../helpers/real-maas.js';
import { ADMIN_PASSWORD, maasJson, startRealRegionSidecar } from '../helpers/real-maas-stack.js';
import { TOKEN } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const ADMIN = 'sidecar-admin';

interface Published {
  ready: boolean;
  url: string;
  secret: string;
  generation: string;
}

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test('the region sidecar bootstraps a real MAAS region and publishes its secret', async (t) => {
    const story = t;
    const maas = await startRealMaas(t, kit);
    const secretFile = await maas.secretFile();
    const readSecret = async () => (await readFile(secretFile, 'utf8')).trim();
    let region = await startRealRegionSidecar(t, maas, { createAdmin: ADMIN });
    const outputs = [region.output];
    const seen: string[] = [await readSecret()];

    await t.test("bootstrap creates the sidecar's own admin with MAAS's maas-region", async (t) => {
      await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, {
        what: 'region sidecar ready',
        timeoutMs: scaled(60_000),
        intervalMs: 100,
      });
      const created = await region.proc.waitForLog('creating the MAAS admin user');
      t.equal(created.username, ADMIN, 'maas-region apikey said the user does not exist, so it was created');
      const verified = await region.proc.waitForLog('bootstrapped: admin API key verified');
      t.equal(verified.username, ADMIN, 'the key maas-region printed works (users/?op=whoami) and is the new admin');
      const users = await maasJson<{ username: string; is_superuser: boolean; email: string }[]>(maas, 'GET', 'users/');
      t.match(
        users.find((u) => u.username === ADMIN),
        { is_superuser: true, email: `${ADMIN}@example.com` },
        'MAAS lists the new admin',
      );
    });

    await t.test("the region URL and MAAS's shared secret are published", async (t) => {
      const response = await region.v1('region');
      t.equal(response.status, 200);
      const published = (await response.json()) as Published;
      t.equal(published.ready, true);
      t.equal(published.url, maas.url);
      t.ok(published.secret === (await readSecret()), 'the secret MAAS wrote (compared, never printed)');
      t.equal(response.headers.get('etag'), `"${published.generation}"`);
    });

    await t.test('a rotation (rotate-secret) is published at once and wakes a long-poller', async (t) => {
      const first = (await (await region.v1('region')).json()) as Published;
      const longPoll = region.v1('region?wait=60', { headers: { 'if-none-match': `"${first.generation}"` } });
      await maas.run('rotate-secret');
      const rotated = await readSecret();
      seen.push(rotated);
      t.ok(rotated !== first.secret, 'MAAS has a new secret');
      const response = await longPoll;
      t.equal(response.status, 200, 'the long-poll answers with the change');
      const next = (await response.json()) as Published;
      t.not(next.generation, first.generation, 'a new generation');
      t.ok(next.secret === rotated, 'the new secret (compared, never printed)');
      t.equal(next.url, maas.url, 'the same URL');
      t.equal(response.headers.get('etag'), `"${next.generation}"`);
      t.equal((await fetch(`${region.base}/readyz`)).status, 200, 'still ready');
    });

    await t.test('a restarted region sidecar reuses its admin and publishes the same generation', async (t) => {
      const before = (await (await region.v1('region')).json()) as Published;
      region.proc.child.kill('SIGTERM');
      t.equal(await region.proc.exited, 0, 'SIGTERM: exit 0');
      // Stopped with the whole story, not with this subtest.
      region = await startRealRegionSidecar(story, maas, { createAdmin: ADMIN });
      outputs.push(region.output);
      await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, {
        what: 'restarted region sidecar ready',
        timeoutMs: scaled(60_000),
        intervalMs: 100,
      });
      const verified = await region.proc.waitForLog('bootstrapped: admin API key verified');
      t.equal(verified.username, ADMIN, 'the existing admin, its key from maas-region apikey');
      t.notOk(region.output().includes('creating the MAAS admin user'), 'no second createadmin');
      const users = await maasJson<{ username: string }[]>(maas, 'GET', 'users/');
      t.equal(users.filter((u) => u.username === ADMIN).length, 1);
      const after = (await (await region.v1('region')).json()) as Published;
      t.equal(after.generation, before.generation, 'the same URL and secret give the same generation: racks see no change');
    });

    await t.test('nothing secret reached the log', async (t) => {
      const output = outputs.map((o) => o()).join('\n');
      t.notOk(output.includes(ADMIN_PASSWORD), 'no admin password in the log');
      t.notOk(output.includes(TOKEN), 'no bearer token in the log');
      t.notOk(
        seen.some((secret) => output.includes(secret)),
        'no region secret, old or new, in the log',
      );
      // The key the sidecar obtained, as MAAS's own CLI prints it.
      const listed = await execa(maas.regionCommand, ['apikey', '--username', ADMIN], { timeout: scaled(60_000) });
      const parts = listed.stdout
        .trim()
        .split('\n')
        .flatMap((line) => ApiKey.parse(line).sensitiveParts);
      t.ok(parts.length >= 2, 'maas-region apikey lists the key');
      t.notOk(
        parts.some((part) => output.includes(part)),
        'no API key in the log',
      );
    });
  });
}

import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalRegistration } from '../../../src/rack/local-registration.js';

t.test('reads maas_url (list or string) and the secret; missing files mean not registered', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'local-reg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const conf = join(dir, 'rackd.conf');
  const secret = join(dir, 'secret');
  t.same(await readLocalRegistration(conf, secret), {});
  await writeFile(conf, 'maas_url:\n  - http://region:5240/MAAS/\ntftp_port: 69\n');
  await writeFile(secret, 'ABAB\n');
  t.same(await readLocalRegistration(conf, secret), { url: 'http://region:5240/MAAS', secret: 'abab' });
  await writeFile(conf, 'maas_url: http://old:5240/MAAS\n');
  t.same((await readLocalRegistration(conf, secret)).url, 'http://old:5240/MAAS');
  await writeFile(conf, ': not yaml : [');
  t.same(await readLocalRegistration(conf, secret), { secret: 'abab' });
});

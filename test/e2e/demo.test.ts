/** `maas-sidecar demo` (npm start) as a newcomer runs it. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasClient } from '../../src/maas/client.js';

const processesMentioning = (text: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'));

t.test('the demo converges, corrects drift, and Ctrl-C stops every process', async (t) => {
  const demo = startCli(t, ['demo', '--racks', '2', '--keep']);
  // The last line the demo prints before it idles: everything above it is then in.
  await waitFor(() => demo.stdout.some((l) => l.includes('Press Ctrl-C')), { what: 'the demo converged and idle', timeoutMs: scaled(60_000) });
  const out = demo.stdout.join('\n');
  for (const step of ['MAAS region API (simulated)', 'region controller answers', 'admin API key obtained', 'region secret published', 'rack-1 registered', 'rack-2 registered', 'DHCP on, primary rack', 'secondary rack']) {
    t.match(out, step);
  }
  const dir = /logs and state in (\S+)\)/.exec(out)?.[1] ?? '';
  const readyz = /(http:\/\/127\.0\.0\.1:\d+)\/readyz/.exec(out)?.[1] ?? '';
  const maasUrl = /\(simulated\) at (\S+)/.exec(out)?.[1] ?? '';
  t.equal((await fetch(`${readyz}/readyz`)).status, 200, 'the printed /readyz answers ready');
  t.match(await (await fetch(`${readyz}/metrics`)).text(), /maas_sidecar_region_ready 1/);
  const rackReadyz = [...out.matchAll(/(http:\/\/127\.0\.0\.1:\d+\/readyz)\s+\S+\/metrics\s+\S+\/v1\/status/g)].map((m) => m[1] ?? '');
  t.equal(rackReadyz.length, 2, 'both rack sidecars are pointed at');
  for (const url of rackReadyz) t.equal((await fetch(url)).status, 200, `${url} answers ready`);
  const primary = /_sim\/racks\/(\w+)\/rackd/.exec(out)?.[1];
  t.match(await (await fetch(maasUrl.replace(/\/MAAS$/, '/_sim/state'))).json(), { vlans: [{ primaryRack: primary }] }, 'the drift hint names the primary rack');

  const admin = new MaasClient({ url: maasUrl, apiKey: ApiKey.parse(await readFile(join(dir, 'maas', 'api-key'), 'utf8')) });
  await admin.updateVlan(0, 0, { dhcp_on: false });
  await waitFor(async () => (await admin.getVlan(0, 0)).dhcp_on, { what: 'DHCP turned back on', timeoutMs: scaled(20_000) });

  demo.child.kill('SIGINT');
  t.equal(await demo.exited, 0);
  t.match(demo.stdout.join('\n'), /Stopped\./);
  t.same(processesMentioning(dir), [], 'no demo child left running');
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
});

t.test('demo flags are validated', async (t) => {
  const demo = startCli(t, ['demo', '--racks', '0', '--region-port', 'x']);
  t.equal(await demo.exited, 2);
  t.match(demo.stderr.join('\n'), /--racks must be a whole number from 1 to 8/);
  t.match(demo.stderr.join('\n'), /--region-port must be an integer/);
});

/** `maas-sidecar demo` (npm start) as a newcomer runs it: what it says, in what order, in what words. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasClient } from '../../src/maas/client.js';
import type { Action } from '../../src/region/network/plan.js';
import { ACTION_KINDS, racksNamed, sayAction } from '../../src/demo/story.js';
import { announced, Narrator } from '../../src/demo/narrator.js';
import { RACK_EVENTS, REGION_EVENTS } from '../../src/demo/events.js';
import { EVENTS } from '../../src/protocol/events.js';
import { logsLine } from '../../src/demo/guide.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

const processesMentioning = (text: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'));

/** An identifier as code spells it (`clearSecondaryRack`, `primaryRack`), never a word for people. */
const CAMEL_CASE = /\b[a-z]+[A-Z][A-Za-z]*\b/;

/** One timed line of the story: "  12.3 s  rack-1  registered with MAAS …". */
interface StoryLine {
  readonly index: number;
  readonly seconds: number;
  readonly who: string;
  readonly text: string;
}

function storyLines(lines: readonly string[]): StoryLine[] {
  return lines.flatMap((line, index) => {
    const m = /^\s*(\d+\.\d) s {2}(\S+)\s+(.*)$/.exec(line);
    return m ? [{ index, seconds: Number(m[1]), who: m[2] as string, text: m[3] as string }] : [];
  });
}

t.test('the demo tells its story in order and in plain words, corrects drift, and Ctrl-C stops and removes everything', async (t) => {
  // A person's shell settings for their own sidecar logs must not blind the demo, which reads its children's JSON.
  const demo = startCli(t, ['demo', '--racks', '2'], { LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' });
  // The last line the demo prints before it idles: everything above it is then in.
  await waitFor(() => demo.stdout.some((l) => l.includes('Press Ctrl-C')), { what: 'the demo converged and idle', timeoutMs: scaled(60_000) });
  const lines = demo.stdout.slice(0, demo.stdout.findIndex((l) => l.includes('Press Ctrl-C')) + 1);
  const out = lines.join('\n');

  // Before anything runs: what, and where the logs are for how long.
  t.match(lines[0], /^maas-sidecar demo: the MAAS simulator, a region sidecar and 2 rack sidecars/);
  const dir = /^Logs and state in (\S+) \(removed when the demo stops; to keep them, start with --keep/.exec(lines[1] ?? '')?.[1] ?? '';
  t.ok(dir, 'the second line says where logs are kept, that stopping removes them, and that --keep keeps them');
  t.match(lines.at(-1), /Press Ctrl-C to stop everything \(logs and state are then removed; --keep keeps them\)/);

  const story = storyLines(lines);
  const first = (who: string, text: RegExp) => story.find((l) => l.who === who && text.test(l.text));
  const published = first('region', /^region secret published/);
  t.ok(first('MAAS', /answers at http/), 'the simulated MAAS is announced');
  t.ok(first('region', /MAAS region API answers/), 'the region answering is told');
  t.ok(first('region', /admin API key obtained/), 'the admin key is told');
  t.ok(published, 'the secret being published is told');
  for (const rack of ['rack-1', 'rack-2']) {
    const fetched = first(rack, /^fetched the region URL and secret/);
    const registered = first(rack, /^registered with MAAS/);
    t.ok(fetched && registered, `${rack} fetching the secret and registering are told`);
    t.ok(published && fetched && published.index < fetched.index, `the secret is published before ${rack} fetches it`);
    t.ok(published && registered && published.index < registered.index, `the secret is published before ${rack} registers`);
    const named = story.filter((l) => l.who === 'region' && l.text.includes(rack) && /primary|secondary/.test(l.text));
    t.ok(named.length > 0, `${rack} is named as a DHCP primary or secondary`);
    t.ok(registered && named.every((l) => l.index > registered.index), `${rack} is announced before it is named as a DHCP primary or secondary`);
  }
  t.ok(first('region', /^DHCP turned on for .*, with rack-\d as the primary$/), 'DHCP on with its primary, in words');
  t.ok(first('region', /^rack-\d set as the DHCP secondary/), 'the secondary, in words');

  // The summary ends the story: one line, after every timed line, just before where to look.
  const summaryIndex = lines.findIndex((l) => l.startsWith('\u2713 Converged in'));
  const summary = lines[summaryIndex] ?? '';
  t.match(summary, /^\u2713 Converged in (\d+\.\d) s: 2 racks registered \(rack-\d DHCP primary, rack-\d DHCP secondary\), 1 subnet \(10\.7\.200\.0\/24\)/);
  t.ok(
    story.every((l) => l.index < summaryIndex),
    'every story line comes before the summary',
  );
  t.equal(lines[summaryIndex + 2], 'Where to look:', 'where to look follows the summary');
  const convergedIn = Number(/Converged in (\d+\.\d) s/.exec(summary)?.[1]);
  t.ok(
    story.every((l) => l.seconds <= convergedIn + 0.1),
    'elapsed times are within the time to converge',
  );

  // Words for people: no code identifiers, no system_ids where host names belong.
  const told = [...story.map((l) => l.text), summary];
  for (const kind of ACTION_KINDS) t.notMatch(out, kind, `the action kind ${kind} is never shown`);
  t.same(
    told.filter((l) => CAMEL_CASE.test(l)),
    [],
    'no camelCase identifier in the story',
  );
  const maasUrl = /answers at (\S+)$/.exec(first('MAAS', /answers at/)?.text ?? '')?.[1] ?? '';
  const simState = await fetch(maasUrl.replace(/\/MAAS$/, '/_sim/state'));
  const state = (await simState.json()) as { racks: { systemId: string; hostname: string }[]; vlans: { primaryRack: string }[] };
  t.equal(state.racks.length, 2);
  for (const rack of state.racks)
    t.same(
      told.filter((l) => l.includes(rack.systemId)),
      [],
      `${rack.hostname}'s system_id is never shown in place of its name`,
    );

  // Where to look points at live endpoints.
  const readyz = /(http:\/\/127\.0\.0\.1:\d+)\/readyz/.exec(out)?.[1] ?? '';
  t.equal((await fetch(`${readyz}/readyz`)).status, 200, 'the printed /readyz answers ready');
  t.match(await (await fetch(`${readyz}/metrics`)).text(), /maas_sidecar_region_ready 1/);
  const rackReadyz = [...out.matchAll(/(http:\/\/127\.0\.0\.1:\d+\/readyz)\s+\S+\/metrics\s+\S+\/v1\/status/g)].map((m) => m[1] ?? '');
  t.equal(rackReadyz.length, 2, 'both rack sidecars are pointed at');
  for (const url of rackReadyz) t.equal((await fetch(url)).status, 200, `${url} answers ready`);
  const primary = /_sim\/racks\/(\w+)\/rackd/.exec(out)?.[1];
  t.equal(state.vlans[0]?.primaryRack, primary, 'the drift hint names the primary rack');
  const primaryName = state.racks.find((r) => r.systemId === primary)?.hostname ?? '';
  t.match(out, `kill ${primaryName}'s rackd (the DHCP primary)`, 'and says which rack that is');
  t.match(out, `${dir}/region.log`, 'the log files are listed');

  // Drift is corrected, and told.
  const admin = new MaasClient({ url: maasUrl, apiKey: ApiKey.parse(await readFile(join(dir, 'maas', 'api-key'), 'utf8')) });
  await admin.updateVlan(0, 0, { dhcp_on: false });
  await waitFor(async () => (await admin.getVlan(0, 0)).dhcp_on, { what: 'DHCP turned back on', timeoutMs: scaled(20_000) });
  await waitFor(() => storyLines(demo.stdout.slice(lines.length)).some((l) => l.who === 'region' && /^DHCP turned on/.test(l.text)), {
    what: 'the correction told',
    timeoutMs: scaled(10_000),
  });

  demo.child.kill('SIGINT');
  t.equal(await demo.exited, 0);
  t.match(demo.stdout.at(-1), /^Stopped\. Logs and state removed \(start with --keep to keep them\)\.$/);
  t.notOk(existsSync(dir), 'without --keep the logs and state are gone');
  t.same(processesMentioning(dir), [], 'no demo child left running');
});

t.test('demo flags are validated', async (t) => {
  const demo = startCli(t, ['demo', '--racks', '0', '--region-port', 'x']);
  t.equal(await demo.exited, 2);
  t.match(demo.stderr.join('\n'), /--racks must be a whole number from 1 to 8/);
  t.match(demo.stderr.join('\n'), /--region-port must be an integer/);
});

t.test('the logs line says where logs are kept and how --keep changes that', async (t) => {
  t.match(logsLine('/tmp/d', false), /^Logs and state in \/tmp\/d \(removed when the demo stops; to keep them, start with --keep/);
  t.match(logsLine('/tmp/d', true), /^Logs and state in \/tmp\/d \(kept after the demo stops: --keep\)/);
});

const vlan = { fabricId: 0, vid: 0, vlanId: 5001 };
const tagged = { fabricId: 1, vid: 12, vlanId: 5002 };
const cidr = '10.7.200.0/24';
const OWNED = 'managed-by: maas-sidecar';
/** One action of every kind (a new kind is a type error here until it has a sample). */
const SAMPLES: { readonly [K in Action['kind']]: Extract<Action, { kind: K }> } = {
  setSubnetNetworking: {
    kind: 'setSubnetNetworking',
    field: 'gateway_ip',
    subnetId: 1,
    cidr: '10.7.200.0/24',
    gatewayIp: '10.7.200.1',
    dnsServers: ['10.7.200.1'],
    before: { gatewayIp: null, dnsServers: [] },
  },
  createIpRange: { kind: 'createIpRange', field: 'ip_range', cidr, subnetId: 1, type: 'dynamic', start: '10.7.200.100', end: '10.7.200.200', comment: OWNED },
  updateIpRange: {
    kind: 'updateIpRange',
    field: 'ip_range',
    cidr,
    rangeId: 3,
    start: '10.7.200.100',
    end: '10.7.200.200',
    comment: OWNED,
    before: { start: '10.7.200.50', end: '10.7.200.99', comment: OWNED },
  },
  deleteIpRange: { kind: 'deleteIpRange', field: 'ip_range', cidr, rangeId: 3, before: { type: 'reserved', start: '10.7.200.2', end: '10.7.200.9' } },
  clearSecondaryRack: { kind: 'clearSecondaryRack', field: 'secondary_rack', vlan, before: 'sys222' },
  setDhcpPrimary: { kind: 'setDhcpPrimary', field: 'primary_rack', vlan: tagged, primaryRack: 'sys111', before: { dhcpOn: true, primaryRack: 'sys222' } },
  setSecondaryRack: { kind: 'setSecondaryRack', field: 'secondary_rack', vlan, secondaryRack: 'sys222', before: 'sys111' },
  disableDhcp: { kind: 'disableDhcp', field: 'dhcp_on', vlan },
  setConfig: { kind: 'setConfig', field: 'setting', name: 'dnssec_validation', value: 'auto', before: 'yes' },
  importBootResources: { kind: 'importBootResources', field: 'boot_resources' },
};

t.test('every planned action kind has a sentence for people, naming racks by host name', async (t) => {
  t.same([...ACTION_KINDS].sort(), Object.keys(SAMPLES).sort(), 'the sentences cover exactly the action kinds');
  const names: Record<string, string> = { sys111: 'rack-1', sys222: 'rack-2' };
  for (const action of Object.values(SAMPLES) as Action[]) {
    const sentence = sayAction(action, (id) => names[id] ?? 'unknown');
    t.notMatch(sentence, CAMEL_CASE, `${action.kind}: no code identifiers in "${sentence}"`);
    t.notMatch(sentence, /sys\d{3}|undefined|null|\[object/, `${action.kind}: no system_id or missing value in "${sentence}"`);
    for (const id of racksNamed(action)) t.match(sentence, names[id] as string, `${action.kind}: names ${names[id]}`);
  }
  t.equal(
    sayAction(SAMPLES.setDhcpPrimary, (id) => names[id] ?? 'unknown'),
    'DHCP primary on VLAN 12 of fabric 1 moved from rack-2 to rack-1',
  );
  const turnedOn = { ...SAMPLES.setDhcpPrimary, vlan, before: { dhcpOn: false, primaryRack: null } };
  t.equal(
    sayAction(turnedOn, (id) => names[id] ?? 'unknown'),
    'DHCP turned on for the untagged VLAN of fabric 0, with rack-1 as the primary',
  );
});

t.test('every event the demo follows is logged by the sidecar it expects it from', async (t) => {
  const sources = async (folder: string): Promise<string> => {
    const files = (await readdir(join(SRC, folder), { recursive: true })).filter((f) => f.endsWith('.ts'));
    return (await Promise.all(files.map((f) => readFile(join(SRC, folder, f), 'utf8')))).join('\n');
  };
  // Names come from src/protocol/events.ts, so code logs them by key (test/unit/log-events.test.ts).
  const logs = (source: string, event: string): boolean => {
    const key = Object.entries(EVENTS).find(([, name]) => name === event)?.[0];
    return key !== undefined && new RegExp(`event: EVENTS\\.${key}\\b`).test(source);
  };
  const region = await sources('region');
  const rack = await sources('rack');
  for (const event of REGION_EVENTS) t.ok(logs(region, event), `src/region logs event '${event}'`);
  for (const event of RACK_EVENTS) t.ok(logs(rack, event), `src/rack logs event '${event}'`);
});

/** A narrator on a hand-driven clock; `told()` answers the sentences said so far. */
function narratorAt(now: { ms: number }, settleMs = 0) {
  const said: string[] = [];
  const narrator = new Narrator({ say: (l) => said.push(l), startedAt: 0, sources: ['region', 'rack-1'], holdMs: 5_000, settleMs, now: () => now.ms });
  return { narrator, told: () => said.map((l) => l.replace(/^\s*\d+\.\d s {2}\S+\s+/, '')), said };
}

t.test('the narrator names a rack as DHCP primary only after that rack is announced', async (t) => {
  const { narrator, told, said } = narratorAt({ ms: 2_000 });
  t.teardown(() => narrator.close());
  narrator.tell({ who: 'region', at: 800, text: () => 'secret published', tells: ['secret published'] });
  // The region's pipe is read first: it names rack-1, by system_id, before rack-1's own lines arrive.
  narrator.tell({ who: 'region', at: 1_200, text: (rack) => `primary ${rack('sys111')}`, racks: ['sys111'] });
  narrator.tell({ who: 'region', at: 1_300, text: () => 'later region line' });
  narrator.tell({ who: 'rack-1', at: 900, text: () => 'fetched the secret', after: ['secret published'] });
  t.same(told(), ['secret published', 'fetched the secret'], 'the primary line waits, and the region lines after it');
  narrator.learnRack('sys111', 'rack-1');
  t.same(told(), ['secret published', 'fetched the secret'], 'a name is not enough: the rack must have been announced');
  narrator.tell({ who: 'rack-1', at: 1_100, text: () => 'registered with MAAS', tells: [announced('rack-1')] });
  t.same(told(), ['secret published', 'fetched the secret', 'registered with MAAS', 'primary rack-1', 'later region line']);
  t.match(said[0], /^\s+0\.8 s {2}region {2}secret published$/, 'elapsed time and source on every line');
});

t.test('the narrator tells a rack fetching the secret only after the secret is published', async (t) => {
  const { narrator, told } = narratorAt({ ms: 1_000 });
  t.teardown(() => narrator.close());
  narrator.tell({ who: 'rack-1', at: 900, text: () => 'fetched the secret', after: ['secret published'] });
  t.same(told(), []);
  narrator.tell({ who: 'region', at: 800, text: () => 'secret published', tells: ['secret published'] });
  t.same(told(), ['secret published', 'fetched the secret']);
});

t.test('a line waits at most holdMs, and then names no system_id', async (t) => {
  const clock = { ms: 1_000 };
  const { narrator, told } = narratorAt(clock);
  t.teardown(() => narrator.close());
  narrator.tell({ who: 'region', at: 1_000, text: (rack) => `primary ${rack('sys999')}`, racks: ['sys999'] });
  t.same(told(), []);
  clock.ms += 5_000;
  narrator.flush();
  t.same(told(), ['primary a rack the demo did not start']);
});

t.test('draining tells what a line waits for first, though it happened later, and then whatever still waits', async (t) => {
  const clock = { ms: 1_000 };
  const { narrator, told } = narratorAt(clock, 300);
  t.teardown(() => narrator.close());
  narrator.learnRack('sys111', 'rack-1');
  narrator.tell({ who: 'region', at: 900, text: (rack) => `primary ${rack('sys111')}`, racks: ['sys111'] });
  narrator.tell({ who: 'region', at: 950, text: (rack) => `secondary ${rack('sys999')}`, racks: ['sys999'] });
  narrator.tell({ who: 'rack-1', at: 990, text: () => 'registered with MAAS', tells: [announced('rack-1')] });
  t.same(told(), [], 'nothing has settled yet');
  narrator.drain();
  t.same(told(), ['registered with MAAS', 'primary rack-1', 'secondary a rack the demo did not start']);
});

t.test('lines from different processes that arrive out of time order are told in time order', async (t) => {
  const clock = { ms: 1_000 };
  const { narrator, told } = narratorAt(clock, 300);
  t.teardown(() => narrator.close());
  narrator.tell({ who: 'rack-1', at: 950, text: () => 'second' });
  narrator.tell({ who: 'region', at: 900, text: () => 'first' });
  t.same(told(), [], 'both settle first');
  clock.ms = 1_250;
  narrator.flush();
  t.same(told(), ['first', 'second']);
});

/**
 * docs/operations.md cannot rot. Its `node /app/bin/maas-sidecar.js …` commands run in the
 * environment the rendered manifests give their container (paths, ports and URLs moved to local
 * processes: the simulator, a region and a rack sidecar, and a local Kubernetes exec endpoint
 * standing in for the pod's `maas-region` container), converged, during a token rotation, and with
 * a change pending and the region sidecar stopped. Every other command is checked against the
 * rendered manifests (namespaces, pods, containers, workloads, Secrets and keys, the PostgreSQL user
 * and database, mounted paths, labels, host paths), the API table against the client's calls and
 * response schemas, the alerts, runbook anchors and dashboard panels against the monitoring
 * component, and the numbers the guide gives against the code.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO, render, type K8sObject } from '../helpers/k8s.js';
import { startCli } from '../helpers/process.js';
import { closedPort } from '../helpers/ports.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import {
  startRackProcess,
  startRegionProcess,
  startSimulatorProcess,
  tempDir,
  TOKEN,
  type RackProcess,
  type RegionProcess,
  type SimProcess,
} from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import type { Teardownable } from '../helpers/simulator.js';
import { OVERLAYS, renderKustomization, renderPath } from './render.js';
import * as maasTypes from '../../src/maas/types.js';
import { REGION_ENV_HELP, RegionEnvSchema } from '../../src/config/region.js';
import { RACK_ENV_HELP, RackEnvSchema } from '../../src/config/rack.js';
import { REACHABILITY_INTERVAL_MS } from '../../src/region/reachability.js';
import { SPREAD_MS, SPREAD_STEP_MS } from '../../src/region/publication.js';
import { SIMULATED_VERSION } from '../../src/simulator/api/region.js';
import { statusCommand } from '../../src/commands/status.js';
import {
  backticked,
  commandLines,
  envValue,
  fencedBlocks,
  flagValue,
  inlineCode,
  inPlaceEnv,
  Rendered,
  segments,
  tableAfter,
  type Container,
  type Segment,
  type Workload,
} from './operations-support.js';

const DOC = await readFile(`${REPO}docs/operations.md`, 'utf8');
/** The guide's prose with every run of blanks one space, for phrases that may wrap. */
const FLAT = DOC.replace(/\s+/g, ' ');
const blocks = fencedBlocks(DOC);
const shell = blocks.filter((b) => b.lang === 'sh').flatMap((b) => commandLines(b.body).map((line) => ({ line, section: b.section })));
const inlineKubectl = inlineCode(DOC).filter((c) => c.startsWith('kubectl '));
const production = new Rendered(render('production'));
const NS = 'maas';

const dockerfile = await readFile(`${REPO}Dockerfile`, 'utf8');
/** The image's entry point: how the CLI is run in a sidecar container. */
// The command a person types in the container: the entry point without its node flags (the
// long-running sidecars' memory tuning), which a one-off command does not need.
const ENTRYPOINT = (JSON.parse(/^ENTRYPOINT (\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? '[]') as string[]).filter((word) => !word.startsWith('--'));
const isSidecar = (c: Container) => /\/maas-sidecar[:@]/.test(c.image);

// ---- every command, checked against the rendered manifests

interface Target {
  readonly workload: Workload;
  readonly podName: string;
}

/** A `node /app/bin/maas-sidecar.js …` command of the guide, to run in place. */
interface SidecarRun {
  readonly line: string;
  readonly section: string;
  readonly target: Target;
  readonly container: Container;
  readonly args: string[];
  /** `| jq FILTER` after it. */
  readonly jq?: string[];
}

interface Checked {
  readonly problems: string[];
  readonly runs: SidecarRun[];
  /** `kubectl logs … -c SIDECAR | grep PATTERN`. */
  readonly logGreps: { readonly pattern: string; readonly container: string; readonly section: string }[];
  readonly rules: Set<string>;
}

const renders = new Map<string, K8sObject[]>();
const renderOnce = (path: string) => {
  const known = renders.get(path) ?? renderPath(join(REPO, path));
  renders.set(path, known);
  return known;
};

function checkAll(): Checked {
  const checked: Checked = { problems: [], runs: [], logGreps: [], rules: new Set() };
  const bindings = new Map<string, Workload>();
  // "`RACK_POD` below stands for a rack pod's name": the pods the guide's first command lists.
  const listing = shell.find((c) => c.section === 'The objects' && / get pods -l /.test(c.line));
  const racks = production.selected(flagValue(segments(listing?.line ?? '')[0]?.argv ?? [], '-l') ?? '');
  if (!FLAT.includes("`RACK_POD` below stands for a rack pod's name") || racks.length !== 1)
    checked.problems.push("RACK_POD is not defined by a listing of one workload's pods");
  else bindings.set('RACK_POD', racks[0] as Workload);
  for (const { line, section } of shell) checkLine(line, section, bindings, checked);
  for (const line of inlineKubectl) checkLine(line, 'prose', bindings, checked);
  return checked;
}

function checkLine(line: string, section: string, bindings: Map<string, Workload>, checked: Checked): void {
  const problem = (text: string) => checked.problems.push(`${line}: ${text}`);
  const segs = segments(line);
  segs.forEach((seg, i) => {
    const [command, ...rest] = seg.argv;
    const next = segs[i + 1];
    const assignment = /^\w+=\$\((.*)\)$/s.exec(command ?? '');
    if (assignment && rest.length === 0) {
      // VAR=$(command): the command is checked like any other.
      checkLine(assignment[1] as string, section, bindings, checked);
      return checked.rules.add('VAR=$(…)');
    }
    if (command === 'openssl' && rest[0] === 'rand') return checked.rules.add('openssl rand');
    if (command === 'kubectl') return checkKubectl(seg, next, line, section, bindings, checked, problem);
    if (command === 'rm') {
      const racks = production.workloads.filter((w) => w.kind === 'DaemonSet').flatMap((w) => production.hostPaths(w));
      for (const path of rest.filter((w) => !w.startsWith('-'))) if (!racks.includes(path)) problem(`${path} is not a host path of the rack pods`);
      return checked.rules.add('rm host paths');
    }
    if (['base64', 'head', 'grep', 'jq'].includes(command ?? '') && seg.piped) return checked.rules.add(`| ${command}`);
    return problem(`no rule checks "${command}"`);
  });
}

function resolveTarget(ref: string, bindings: Map<string, Workload>): Target | undefined {
  const bound = bindings.get(ref);
  if (bound) return { workload: bound, podName: bound.kind === 'StatefulSet' ? `${bound.name}-0` : `${bound.name}-x7k2p` };
  const workload = production.workloadRef(ref);
  if (workload) return { workload, podName: workload.kind === 'StatefulSet' ? `${workload.name}-0` : `${workload.name}-x7k2p` };
  const name = ref.replace(/^pods?\//, '');
  const stateful = production.statefulPod(name);
  return stateful ? { workload: stateful, podName: name } : undefined;
}

function checkKubectl(
  seg: Segment,
  next: Segment | undefined,
  line: string,
  section: string,
  bindings: Map<string, Workload>,
  checked: Checked,
  problem: (text: string) => void,
): void {
  const argv = seg.argv.slice(1);
  const dash = argv.indexOf('--');
  const head = dash === -1 ? argv : argv.slice(0, dash);
  const namespace = flagValue(head, '-n', '--namespace');
  const words = head.filter((w, i) => !['-n', '--namespace'].includes(w) && !['-n', '--namespace'].includes(head[i - 1] ?? ''));
  const [verb, ...rest] = words;
  const namespaced = () => {
    if (namespace !== NS) problem(`names namespace ${namespace ?? '(none)'}, not ${NS}`);
  };
  const positional = rest.filter((w, i) => !w.startsWith('-') && !['-c', '-l', '-o', '--for'].includes(rest[i - 1] ?? ''));
  const rule = (name: string) => checked.rules.add(name);

  if (verb === 'kustomize' || ((verb === 'apply' || verb === 'diff') && rest[0] === '-k')) {
    const path = verb === 'kustomize' ? rest[0] : rest[1];
    if (!path || !existsSync(join(REPO, path)) || !renderOnce(path).some((o) => o.kind === 'StatefulSet')) problem(`${path} does not render the deployment`);
    return void rule(`${verb} -k`);
  }
  if (verb === 'apply' && rest.join(' ') === '-f -' && seg.piped) return void rule('apply -f -');
  if (verb === 'exec' || verb === 'logs') {
    namespaced();
    const ref = positional[0] ?? '';
    const target = resolveTarget(ref, bindings);
    if (!target) return problem(`${ref} is no pod of the rendered workloads`);
    const name = flagValue(rest, '-c');
    const container = name === undefined ? undefined : production.container(target.workload, name);
    if (!container) return problem(`${target.workload.name} has no container ${name ?? '(none given)'}`);
    const interactive = rest.some((w) => /^-[a-z]*i[a-z]*$/.test(w));
    if (seg.stdin !== undefined && !interactive) problem('reads a file on standard input without -i');
    if (seg.stdout !== undefined && rest.some((w) => /^-[a-z]*t[a-z]*$/.test(w))) problem('a terminal (-t) would mangle the output written to a file');
    if (verb === 'logs') {
      if (next?.argv[0] === 'grep' && isSidecar(container)) checked.logGreps.push({ pattern: next.argv[1] ?? '', container: container.name, section });
      return void rule('logs');
    }
    return checkExec(argv.slice(dash + 1), target, container, { line, section, next }, checked, problem);
  }
  if (verb === 'rollout' || verb === 'scale') {
    namespaced();
    const ref = verb === 'rollout' ? rest[1] : rest[0];
    if (verb === 'rollout' && !['status', 'restart', 'undo', 'history'].includes(rest[0] ?? '')) problem(`rollout ${rest[0]}?`);
    if (!production.workloadRef(ref ?? '')) problem(`${ref} is no rendered workload`);
    if (verb === 'scale' && !/^\d+$/.test(flagValue(rest, '--replicas') ?? '')) problem('scale without --replicas=N');
    return void rule(verb);
  }
  if (verb === 'wait' || verb === 'delete') {
    namespaced();
    const ref = verb === 'wait' ? positional[0] : `pod/${positional[1] ?? ''}`;
    if (verb === 'delete' && positional[0] !== 'pod') problem('deletes something other than a pod');
    if (!resolveTarget(ref ?? '', bindings) || !ref?.startsWith('pod/')) problem(`${ref} is no pod of the rendered workloads`);
    return void rule(verb);
  }
  if (verb === 'get' && positional[0] === 'nodes') {
    const [key, value] = (flagValue(rest, '-l') ?? '').split('=');
    if (!production.workloads.some((w) => w.pod.nodeSelector?.[key ?? ''] === value)) problem(`no workload selects nodes by ${key}=${value}`);
    return void rule('get nodes');
  }
  if (verb === 'get' && positional[0] === 'pods') {
    namespaced();
    const selector = flagValue(rest, '-l');
    if (selector !== undefined && production.selected(selector).length !== 1)
      problem(`-l ${selector} selects ${production.selected(selector).length} workloads' pods`);
    return void rule('get pods');
  }
  if ((verb === 'get' && positional[0] === 'secret') || (verb === 'create' && positional[0] === 'secret')) {
    namespaced();
    const secrets = production.secrets();
    const names = verb === 'get' ? positional.slice(1) : positional.slice(2);
    if (verb === 'create' && positional[1] !== 'generic') problem('creates a Secret that is not generic');
    for (const secretName of names) if (!secrets.has(secretName)) problem(`no pod uses a Secret ${secretName}`);
    const keys =
      verb === 'get'
        ? [...(flagValue(rest, '-o') ?? '').matchAll(/\{\.data\.([\w.-]+)\}/g)].map((m) => m[1] as string)
        : rest.filter((w) => w.startsWith('--from-literal=')).map((w) => w.slice('--from-literal='.length).split('=')[0] as string);
    for (const key of keys) for (const secretName of names) if (!secrets.get(secretName)?.has(key)) problem(`the pods read no key ${key} of ${secretName}`);
    if (verb === 'create' && (flagValue(rest, '--dry-run') !== 'client' || next?.argv.slice(0, 2).join(' ') !== 'kubectl apply'))
      problem('replaces a Secret without --dry-run=client … | kubectl apply -f -');
    return void rule(`${verb} secret`);
  }
  if (verb === 'label' && positional[0] === 'node') {
    const label = positional[2] ?? '';
    const [key, value] = label.endsWith('-') ? [label.slice(0, -1), undefined] : label.split('=');
    const selects = production.workloads.some(
      (w) => w.pod.nodeSelector?.[key ?? ''] !== undefined && (value === undefined || w.pod.nodeSelector[key ?? ''] === value),
    );
    if (!selects) problem(`no workload selects nodes by ${label}`);
    return void rule('label node');
  }
  problem('no rule checks this kubectl command');
}

const POSTGRES_TOOLS = ['pg_dump', 'pg_restore', 'psql', 'dropdb', 'createdb'];

function checkExec(
  command: string[],
  target: Target,
  container: Container,
  at: { line: string; section: string; next: Segment | undefined },
  checked: Checked,
  problem: (text: string) => void,
): void {
  const rule = (name: string) => checked.rules.add(name);
  if (isSidecar(container)) {
    if (ENTRYPOINT.length > 0 && ENTRYPOINT.every((word, i) => command[i] === word)) {
      const jq = at.next?.argv[0] === 'jq' ? at.next.argv.slice(1) : undefined;
      checked.runs.push({ line: at.line, section: at.section, target, container, args: command.slice(ENTRYPOINT.length), ...(jq ? { jq } : {}) });
      return void rule('exec sidecar CLI');
    }
    return problem(`runs "${command[0]}" in ${container.name}`);
  }
  if (POSTGRES_TOOLS.includes(command[0] ?? '')) {
    const user = envValue(container, 'POSTGRES_USER');
    const database = envValue(container, 'POSTGRES_DB');
    if (user === undefined || database === undefined) return problem(`${container.name} is no PostgreSQL container (POSTGRES_USER, POSTGRES_DB)`);
    const args = command.slice(1);
    // `pg_restore --list` only reads the archive: no connection, no user.
    if (!args.includes('--list')) {
      if (flagValue(args, '-U') !== user) problem(`-U ${flagValue(args, '-U')}, but the database user is ${user}`);
      const db = flagValue(args, '-d') ?? (['dropdb', 'createdb'].includes(command[0] ?? '') ? args.at(-1) : undefined);
      if (db !== database) problem(`database ${db}, but it is ${database}`);
    }
    if (command[0] === 'createdb' && flagValue(args, '-O') !== user) problem(`createdb -O ${flagValue(args, '-O')}, but the owner is ${user}`);
    return void rule(`exec ${command[0]}`);
  }
  if (command[0] === 'maas-region' && command[1] === 'apikey') {
    const sidecar = target.workload.pod.containers.find((c) => envValue(c, 'COMMAND_EXEC_CONTAINER') === container.name);
    if (flagValue(command, '--username') !== (sidecar && envValue(sidecar, 'MAAS_ADMIN_USERNAME')))
      problem('asks for the key of another user than the admin the sidecar uses');
    return void rule('exec maas-region apikey');
  }
  problem(`no rule checks "${command[0]}" in ${container.name}`);
}

const checked = checkAll();

t.test('every command of the guide names what the rendered manifests have', async (t) => {
  t.same(checked.problems, [], 'no command names a missing or wrong object, container, key, user or path');
  // The parser found each kind of command the guide is about, so a silently skipped block would show.
  for (const rule of [
    'exec sidecar CLI',
    'exec pg_dump',
    'exec pg_restore',
    'exec psql',
    'exec dropdb',
    'exec createdb',
    'logs',
    'rollout',
    'scale',
    'wait',
    'get pods',
    'get secret',
    'create secret',
    'label node',
    'apply -k',
    'diff -k',
    'VAR=$(…)',
    'openssl rand',
    'rm host paths',
  ]) {
    t.ok(checked.rules.has(rule), `the guide has a command of kind "${rule}"`);
  }
  t.ok(checked.runs.some((r) => r.args[0] === 'status') && checked.runs.some((r) => r.args[0] === 'plan'), 'status and plan are run in place');
});

t.test('the objects table names rendered objects, containers, volumes, keys and the database', async (t) => {
  const known = new Set<string>([NS]);
  for (const o of production.objects) known.add(o.metadata.name);
  for (const w of production.workloads) {
    if (w.kind === 'StatefulSet') for (let i = 0; i < w.replicas; i++) known.add(`${w.name}-${i}`);
    for (const c of [...w.pod.containers, ...(w.pod.initContainers ?? [])]) {
      known.add(c.name);
      for (const name of ['POSTGRES_DB', 'POSTGRES_USER']) known.add(envValue(c, name) ?? '');
      for (const m of c.volumeMounts ?? []) known.add(m.mountPath);
    }
    for (const path of production.hostPaths(w)) known.add(path);
    for (const [key, value] of Object.entries(w.pod.nodeSelector ?? {})) known.add(`${key}=${value}`);
  }
  for (const pvc of production.pvcNames()) known.add(pvc);
  for (const [secret, keys] of production.secrets()) for (const name of [secret, ...keys]) known.add(name);
  const rows = tableAfter(DOC, '## The objects');
  t.ok(rows.length >= 6);
  for (const row of rows) for (const name of row.flatMap(backticked)) t.ok(known.has(name), `${name} is in the rendering`);
  const services = tableAfter(DOC, '## The objects').find((r) => r[0] === 'Services')?.[1] ?? '';
  for (const [, name, port] of services.matchAll(/`([\w-]+)` \((\d+)/g)) {
    const ports = ((production.object('Service', name ?? '')?.spec as { ports?: { port: number }[] } | undefined)?.ports ?? []).map((p) => p.port);
    t.ok(ports.includes(Number(port)), `Service ${name} serves port ${port}`);
  }
});

t.test("the CLI path in the sidecar containers is the image's entry point, and nothing else is on PATH", async (t) => {
  t.same(ENTRYPOINT, ['node', '/app/bin/maas-sidecar.js'], 'the entry point the guide names');
  t.match(FLAT, `\`${ENTRYPOINT.join(' ')}\``);
  t.match(FLAT, 'the image puts no `maas-sidecar` on the `PATH`');
  t.notMatch(
    dockerfile,
    /ln -s|npm link|ENV PATH|\/usr\/local\/bin\/maas-sidecar/,
    'the image links no maas-sidecar command (else the guide can say `maas-sidecar`)',
  );
  const sidecars = production.workloads.flatMap((w) => w.pod.containers.filter(isSidecar));
  t.equal(sidecars.length, 2);
  for (const c of sidecars) t.equal(c.command, undefined, `${c.name} runs the image's entry point as PID 1`);
});

t.test('the images: snippets render over each overlay and reach exactly the containers they name', async (t) => {
  const snippets = blocks.filter((b) => b.lang === 'yaml' && /^images:/m.test(b.body));
  t.ok(snippets.length >= 3, 'the sidecar, the region, and region and racks together');
  t.match(snippets[0]?.body, /maas-sidecar/, "the first snippet is the sidecar's");
  const imageOf = (objects: readonly K8sObject[]) =>
    new Rendered(objects).workloads.flatMap((w) =>
      [...w.pod.containers, ...(w.pod.initContainers ?? [])].map((c) => ({ key: `${w.name}/${c.name}`, image: c.image })),
    );
  const repository = (image: string) => image.replace(/[:@].*$/, '');
  for (const overlay of OVERLAYS) {
    const before = imageOf(render(overlay));
    for (const snippet of snippets) {
      const { images } = YAML.parse(snippet.body) as { images: { name: string; newName?: string; newTag?: string }[] };
      const after = new Map(imageOf(renderKustomization({ resources: [`deploy/overlays/${overlay}`], images })).map((c) => [c.key, c.image]));
      for (const image of images) {
        const hit = before.filter((c) => repository(c.image) === image.name);
        t.ok(hit.length > 0, `${overlay}: ${image.name} is an image the rendering runs`);
        for (const c of hit) t.equal(after.get(c.key), `${image.newName ?? image.name}:${image.newTag ?? ''}`, `${overlay}: ${c.key} runs the new image`);
      }
      for (const c of before.filter((b) => !images.some((i) => repository(b.image) === i.name)))
        t.equal(after.get(c.key), c.image, `${overlay}: ${c.key} unchanged`);
    }
  }
});

t.test('the API table lists exactly the calls the client makes and the fields its schemas read', async (t) => {
  const client = await readFile(`${REPO}src/maas/client.ts`, 'utf8');
  const calls = [...client.matchAll(/this\.#(?:json|send)\(\{ method: '(\w+)', template: '([^']+)'([^}]*)\}/g)].map((m) => {
    const op = /op: '(\w+)'/.exec(m[3] ?? '')?.[1];
    const parser = /(parse\w+)\(\s*await\s*$/.exec(client.slice(0, m.index))?.[1];
    return { label: `${m[1]} ${m[2]}${op ? `?op=${op}` : ''}`, parser };
  });
  t.ok(calls.length >= 15, "the client's calls were found");
  const rows = tableAfter(DOC, '| MAAS call |');
  const tabled = rows.flatMap((r) => backticked(r[0] ?? '').map((call) => ({ call: call.replace(/ \(anonymous\)$/, ''), fields: backticked(r[1] ?? '') })));
  t.same(tabled.map((r) => r.call).sort(), [...new Set(calls.map((c) => c.label))].sort(), 'one row entry per call, no other');
  for (const call of calls) {
    const row = tabled.find((r) => r.call === call.label);
    const parser = call.parser ? (maasTypes as unknown as Record<string, { schema: unknown }>)[call.parser] : undefined;
    t.same(row?.fields.sort(), parser ? fieldPaths(parser.schema).sort() : [], `${call.label}: the fields ${call.parser ?? 'nothing'} reads`);
  }
  const example = /`(MAAS returned a malformed subnet list: [^`]+)`/.exec(FLAT)?.[1];
  const withoutDhcp = {
    id: 1,
    cidr: '10.7.200.0/24',
    gateway_ip: null,
    dns_servers: [],
    vlan: { id: 5001, vid: 0, fabric_id: 0, primary_rack: null, secondary_rack: null },
  };
  t.ok(example, 'the guide gives an example error');
  t.throws(() => maasTypes.parseSubnets([withoutDhcp]), { message: example ?? '' }, "the guide's example error is the one a missing field gives");
});

/** Every field path a TypeBox schema declares: `a`, `a.b`, `a[].b`; unions and optionals see through. */
function fieldPaths(schema: unknown, prefix = ''): string[] {
  const s = schema as { type?: string; properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] };
  if (s.anyOf) {
    const objects = s.anyOf.filter((b) => (b as { type?: string }).type === 'object' || (b as { type?: string }).type === 'array');
    return objects.length > 0 ? objects.flatMap((b) => fieldPaths(b, prefix)) : prefix ? [prefix] : [];
  }
  if (s.type === 'array') {
    // A list of values is one field; a list of objects has fields of its own.
    const items = s.items as { type?: string; anyOf?: unknown[] };
    const structured = items.type === 'object' || items.anyOf !== undefined;
    return structured ? fieldPaths(items, prefix ? `${prefix}[]` : '') : prefix ? [prefix] : [];
  }
  if (s.type === 'object' && s.properties)
    return Object.entries(s.properties).flatMap(([name, child]) => fieldPaths(child, prefix ? `${prefix}.${name}` : name));
  return prefix ? [prefix] : [];
}

const defaultOf = (schema: unknown): unknown => (schema as { default?: unknown }).default;

t.test("the numbers and paths the guide gives are the code's and the manifests'", async (t) => {
  const region = production.workloads.find((w) => w.name === 'maas-region') as Workload;
  const rack = production.workloads.find((w) => w.name === 'maas-rack') as Workload;
  const regionSidecar = production.container(region, 'region-sidecar') as Container;
  const rackSidecar = production.container(rack, 'rack-sidecar') as Container;
  const every = /^\*\/(\d+) \* \* \* \* \*$/.exec(envValue(regionSidecar, 'RECONCILE_SCHEDULE') ?? '')?.[1];
  t.ok(every, 'production sets a schedule of every N seconds');
  const claims = [...FLAT.matchAll(/every (\d+) s in (?:the )?production/g)];
  t.ok(claims.length >= 2, 'the guide says how often production reconciles');
  for (const claim of claims) t.equal(claim[1], every, `"${claim[0]}": production reconciles every ${every} s`);
  t.match(FLAT, 'every 500 ms (`SECRET_POLL_MILLISECONDS`)');
  t.equal(defaultOf(RegionEnvSchema.properties.SECRET_POLL_MILLISECONDS), 500);
  t.equal(envValue(regionSidecar, 'SECRET_POLL_MILLISECONDS'), undefined, 'the default applies');
  t.match(FLAT, '`REREGISTER_GRACE_SECONDS` (60 s)');
  t.equal(defaultOf(RackEnvSchema.properties.REREGISTER_GRACE_SECONDS), 60);
  t.equal(envValue(rackSidecar, 'REREGISTER_GRACE_SECONDS'), undefined, 'the default applies');
  t.match(FLAT, '(within `WATCH_WAIT_SECONDS`, 30 s by default)');
  t.equal(defaultOf(RackEnvSchema.properties.WATCH_WAIT_SECONDS), 30);
  t.equal(envValue(rackSidecar, 'WATCH_WAIT_SECONDS'), undefined, 'the default applies');
  t.match(FLAT, 'over at most a second, one at once and the rest 20 ms apart');
  t.same([SPREAD_MS, SPREAD_STEP_MS], [1_000, 20], 'how a new secret is spread over the racks, as the guide says');
  t.match(FLAT, 'calling it every 2 s for its `region` readiness check');
  t.equal(REACHABILITY_INTERVAL_MS, 2_000);
  t.match(FLAT, '`maxUnavailable: 1`');
  t.same((rack.object.spec as { updateStrategy?: unknown }).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  const regionSpec = region.object.spec as { replicas?: number; updateStrategy?: { type?: string } };
  t.equal(regionSpec.replicas, 1, 'one region replica');
  t.equal(regionSpec.updateStrategy?.type ?? 'RollingUpdate', 'RollingUpdate', 'an apply restarts the region pod');
  for (const c of [regionSidecar, rackSidecar])
    t.equal(envValue(c, 'SIDECAR_TOKEN_FILE'), '/etc/maas-sidecar/token/token', `${c.name} reads the token where the guide says`);
  // "Rotating the sidecar token" rests on this: two lines, the region accepting both, racks
  // sending the first, both re-reading the file (run for real in the rotation subtest below).
  t.match(FLAT, '**Both sidecars re-read the file when it changes**');
  const tokenRow = (help: readonly (readonly [string, string])[]) => help.find(([name]) => name === 'SIDECAR_TOKEN_FILE')?.[1] ?? '';
  t.match(tokenRow(REGION_ENV_HELP), /two lines: both tokens are accepted; re-read when it changes/, 'the region accepts both lines and re-reads the file');
  t.match(
    tokenRow(RACK_ENV_HELP),
    /of two lines the first is sent, and either opens \/v1\/status here; re-read when it changes/,
    'a rack sends the first line and re-reads the file',
  );
  t.equal(envValue(regionSidecar, 'MAAS_SECRET_FILE'), '/var/lib/maas/secret');
  // The rack's files, as they sit on the node: the container path under its mount, on the host path.
  const onNode = (variable: string) => {
    const path = envValue(rackSidecar, variable) ?? '';
    const mount = rackSidecar.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
    const host = rack.pod.volumes?.find((v) => v.name === mount?.name)?.hostPath?.path;
    return `${host}${path.slice(mount?.mountPath.length ?? 0)}`;
  };
  t.match(DOC, `\`${onNode('RACKD_CONF_FILE')}\``, 'rackd.conf on the node');
  t.match(DOC, `\`${onNode('RACK_SECRET_FILE')}\``, 'the rack secret on the node');
  const dbService = await readFile(`${REPO}images/maas-region/maas-region-db.service`, 'utf8');
  t.match(dbService, /^Before=maas-regiond\.service$/m);
  t.match(dbService, /^ExecStart=\/usr\/sbin\/maas-region dbupgrade$/m, 'the region container migrates the database at start');
  for (const image of ['maas-region', 'maas-rack'])
    t.match(await readFile(`${REPO}images/${image}/Dockerfile`, 'utf8'), /^ARG MAAS_PPA=ppa:maas\/3\.5$/m, `${image} takes MAAS_PPA`);
  const postgres = production.workloads.find((w) => w.name === 'maas-postgres')?.pod.containers[0]?.image;
  t.match(postgres, /\/postgres:16$/, 'the base runs postgres:16');
  t.match(FLAT, 'the base runs `postgres:16`');
});

t.test('the alerts, runbook anchors and dashboard panels the guide names exist', async (t) => {
  const rule = production.object('PrometheusRule', 'maas-sidecar') as unknown as { spec: { groups: { rules: { alert?: string }[] }[] } };
  const alerts = rule.spec.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
  const runbook = await readFile(`${REPO}docs/runbook.md`, 'utf8');
  const anchors = new Set(
    [...runbook.matchAll(/^#+ (.+)$/gm)].map((m) =>
      (m[1] as string)
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const rows = tableAfter(DOC, '| alert | first look |');
  const linked = rows.map((r) => /^\[(\w+)\]\(runbook\.md#([\w-]+)\)$/.exec(r[0] ?? ''));
  t.same(linked.map((m) => m?.[1]).sort(), [...alerts].sort(), 'one row per alert of the monitoring component');
  for (const m of linked) t.ok(m && anchors.has(m[2] as string), `runbook.md#${m?.[2]} exists`);
  for (const name of DOC.match(/\bMaas[A-Z]\w+/g) ?? []) t.ok(alerts.includes(name), `${name} is an alert`);

  const dashboard = JSON.parse(await readFile(`${REPO}deploy/components/monitoring/dashboard.json`, 'utf8')) as { title: string; panels: { title: string }[] };
  const titles = new Set(dashboard.panels.map((p) => p.title));
  t.match(FLAT, `*${dashboard.title}*`);
  const panels = tableAfter(DOC, '| panel | what it tells |');
  t.ok(panels.length >= 10);
  for (const [panel, meaning] of panels) {
    t.ok(titles.has(panel as string), `panel "${panel}" is on the dashboard`);
    for (const [, other] of (meaning ?? '').matchAll(/\*([^*]+)\*/g)) t.ok(titles.has(other as string), `panel "${other}" is on the dashboard`);
  }
});

// ---- the sidecar commands, run in place against a simulated MAAS

interface Stack {
  readonly sim: SimProcess;
  readonly api: KubeApi;
  readonly networkYaml: string;
  readonly regionPort: number;
  readonly rackDir: string;
  /** Each pod's copy of the token Secret (by workload name), the admin password, the declaration, the TLS Secret. */
  readonly folders: { readonly token: Readonly<Record<string, string>>; readonly admin: string; readonly network: string; readonly tls: string };
  region: RegionProcess;
  rack: RackProcess;
}

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const RACK = 'rack-a';

/** A local folder for each volume the container mounts, by what the volume is. */
function standIns(stack: Stack, target: Target): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of target.workload.pod.volumes ?? []) {
    const volume = v as {
      name: string;
      secret?: { secretName: string };
      configMap?: { name: string };
      hostPath?: unknown;
      projected?: unknown;
      persistentVolumeClaim?: unknown;
    };
    if (volume.secret?.secretName === 'maas-sidecar-token') out[volume.name] = stack.folders.token[target.workload.name] ?? '';
    else if (volume.secret?.secretName === 'maas-region-sidecar-tls') out[volume.name] = stack.folders.tls;
    else if (volume.secret?.secretName === 'maas-admin') out[volume.name] = stack.folders.admin;
    else if (volume.configMap?.name.startsWith('maas-network')) out[volume.name] = stack.folders.network;
    else if (volume.projected) out[volume.name] = stack.api.serviceAccountDir;
    else if (volume.hostPath) out[volume.name] = stack.rackDir;
  }
  // The region's data volume (a PVC template): the simulator writes the region secret there.
  for (const t of (target.workload.object.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? [])
    out[t.metadata.name] = stack.sim.dir;
  return out;
}

/** A guide command, run with the environment its container has, pointed at the local processes. */
async function runInPlace(t: Teardownable, stack: Stack, run: SidecarRun): Promise<Result> {
  const region = envValue(run.container, 'MAAS_URL') !== undefined;
  const overrides: Record<string, string> = region
    ? { MAAS_URL: stack.sim.url, MAAS_PUBLIC_URL: stack.sim.url, SIDECAR_LISTEN_PORT: String(stack.regionPort) }
    : { REGION_SIDECAR_URL: stack.region.base, SIDECAR_LISTEN_PORT: new URL(stack.rack.base).port };
  const kube = stack.api.sidecarEnv({ namespace: NS, pod: run.target.podName, container: '' });
  const env = inPlaceEnv(run.target.workload, run.container, {
    podName: run.target.podName,
    nodeName: RACK,
    volumes: standIns(stack, run.target),
    overrides,
    injected: { KUBERNETES_SERVICE_HOST: kube.KUBERNETES_SERVICE_HOST as string, KUBERNETES_SERVICE_PORT: kube.KUBERNETES_SERVICE_PORT as string },
  });
  const proc = startCli(t, run.args, env);
  const code = await proc.exited;
  return { code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

/**
 * Each distinct command of `runs` once (the guide repeats some), all started together as
 * independent processes; the result of each line's command.
 */
async function runEach(t: Teardownable, stack: Stack, runs: readonly SidecarRun[]): Promise<Map<SidecarRun, Result>> {
  const key = (r: SidecarRun) => `${r.target.podName}/${r.container.name}: ${r.args.join(' ')}`;
  const distinct = new Map<string, SidecarRun>();
  for (const r of runs) if (!distinct.has(key(r))) distinct.set(key(r), r);
  const results = new Map(await Promise.all([...distinct].map(async ([k, r]) => [k, await runInPlace(t, stack, r)] as const)));
  return new Map(runs.map((r) => [r, results.get(key(r)) as Result]));
}

const jqPresent = existsSync('/usr/bin/jq') || existsSync('/usr/local/bin/jq');

/** Every key anywhere in a JSON value. */
const keysOf = (value: unknown): Set<string> => {
  const keys = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        keys.add(k);
        walk(child);
      }
    }
  };
  walk(value);
  return keys;
};

/** The sample's lines and the real ones, made comparable: ids, ages, numbers, URLs and rack names. */
function shape(line: string): string {
  return line
    .replace(/\b[0-9a-f]{16}\b/g, 'GEN')
    .replace(/((\d+ (d|h|min|s) )?\d+ (d|h|min|s)) ago/g, 'AGE ago')
    .replace(/; a pass running for .*$/, '')
    .replace(/ for \S+$/, ' for URL')
    .replace(/^( {4})[\w-]+ \(\w+\):/, '$1RACK (ID):')
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/\(N pass(es)?\)/, '(N passes)');
}
const labelsOf = (text: string) => text.split('\n').flatMap((l) => /^ {2}(\w+):/.exec(l)?.[1] ?? []);

const ROTATION = 'Rotating the sidecar token';
const isRegionRun = (r: SidecarRun) => r.container.name === 'region-sidecar';
const plain = (r: SidecarRun, ...args: string[]) => r.args.join(' ') === args.join(' ') && r.jq === undefined;

t.test("the guide's sidecar commands, run in place against a simulated MAAS", async (t) => {
  const regionWorkload = checked.runs.find(isRegionRun)?.target;
  t.ok(regionWorkload, 'the guide runs commands in the region sidecar');
  const regionSidecar = production.container(regionWorkload?.workload as Workload, 'region-sidecar') as Container;
  const execContainer = envValue(regionSidecar, 'COMMAND_EXEC_CONTAINER') ?? '';
  const network = production.configMapData((regionWorkload?.workload.pod.volumes ?? []).find((v) => v.configMap)?.configMap?.name ?? '');

  const rackWorkload = checked.runs.find((r) => !isRegionRun(r))?.target.workload as Workload;
  const sim = await startSimulatorProcess(t);
  // Each pod has its own copy of the token Secret, which the kubelet updates at its own time.
  const token = {
    [regionWorkload?.workload.name ?? '']: await tempDir(t, 'maas-ops-token-region-'),
    [rackWorkload.name]: await tempDir(t, 'maas-ops-token-rack-'),
  };
  const folders = { token, admin: await tempDir(t, 'maas-ops-admin-'), network: await tempDir(t, 'maas-ops-network-'), tls: await tempDir(t, 'maas-ops-tls-') };
  const tokenFiles = Object.values(token).map((dir) => join(dir, 'token')) as [string, string];
  for (const file of tokenFiles) await writeFile(file, TOKEN, { mode: 0o600 });
  await writeFile(join(folders.admin, 'password'), 'operations-guide-password');
  for (const [file, text] of Object.entries(network)) await writeFile(join(folders.network, file), text);
  // The pod's MAAS container, as the exec endpoint runs it: the simulator's maas-region stand-in.
  const api = await startKubeApi(t, {
    containers: [
      { namespace: NS, pod: regionWorkload?.podName ?? '', container: execContainer, env: { PATH: `${join(sim.dir, 'bin')}:${process.env.PATH ?? ''}` } },
    ],
  });
  const regionPort = await closedPort();
  const [regionTokenFile, rackTokenFile] = tokenFiles;
  const region = await startRegionProcess(
    t,
    sim,
    { SIDECAR_LISTEN_PORT: String(regionPort), SIDECAR_TOKEN_FILE: regionTokenFile },
    network['network.yaml'] ?? null,
  );
  const rackDir = await tempDir(t, 'maas-ops-rack-');
  await mkdir(rackDir, { recursive: true });
  // Short long-polls: a refused token shows at the next one (the straggler below).
  const rack = await startRackProcess(t, sim, region.base, RACK, { dir: rackDir, env: { SIDECAR_TOKEN_FILE: rackTokenFile, WATCH_WAIT_SECONDS: '5' } });
  const stack: Stack = { sim, api, networkYaml: network['network.yaml'] ?? '', regionPort, rackDir, folders, region, rack };

  await waitFor(() => stack.rack.ready(), { what: 'the rack sidecar ready', timeoutMs: scaled(30_000) });
  await waitFor(
    async () => {
      const s = (await stack.region.status()) as unknown as {
        ready: boolean;
        loop: { status: string };
        lastPass: { ok: boolean } | null;
        pending: unknown[];
        racks: { subnets: { role: string }[] }[];
      };
      return s.ready && s.loop.status === 'idle' && s.lastPass?.ok === true && s.pending.length === 0 && s.racks[0]?.subnets[0]?.role === 'primary';
    },
    { what: 'the region converged with the rack as DHCP primary', timeoutMs: scaled(30_000) },
  );
  const rackSystemId = (await stack.rack.status()).systemId;

  await t.test('converged: every command exits 0 and prints what the guide shows', async (t) => {
    const outputs = [...(await runEach(t, stack, checked.runs))].map(([run, result]) => ({ run, result }));
    for (const { run, result } of outputs) t.equal(result.code, 0, `${run.line}\n${result.stderr}`);

    const regionText = outputs.find((o) => isRegionRun(o.run) && plain(o.run, 'status'))?.result.stdout ?? '';
    const sample = blocks.find((b) => b.lang === 'text' && b.body.startsWith('region sidecar '))?.body ?? '';
    const renderedPort = envValue(regionSidecar, 'SIDECAR_LISTEN_PORT');
    t.equal(sample.split('\n')[0], `region sidecar http://127.0.0.1:${renderedPort}: ready`, 'the sample asks the port the container listens on, on loopback');
    t.match(sample, ` for ${envValue(regionSidecar, 'MAAS_PUBLIC_URL')}\n`, 'the sample publishes the rendered MAAS_PUBLIC_URL');
    t.equal(regionText.split('\n')[0], `region sidecar http://127.0.0.1:${stack.regionPort}: ready`);
    t.same(labelsOf(regionText), labelsOf(sample), 'the sample has the lines status prints, in its order');
    const sampleShapes = new Set(sample.split('\n').map(shape));
    for (const line of regionText.split('\n').filter(Boolean)) t.ok(sampleShapes.has(shape(line)), `the sample has a line like: ${line}`);

    const regionJson = JSON.parse(outputs.find((o) => isRegionRun(o.run) && o.run.args.includes('--json'))?.result.stdout ?? '{}') as Record<string, unknown>;
    const rackJson = JSON.parse(outputs.find((o) => !isRegionRun(o.run) && o.run.args.includes('--json'))?.result.stdout ?? '{}') as Record<string, unknown>;
    const help = statusCommand.help;
    for (const [field, kind, meaning] of tableAfter(DOC, '| field | kind | meaning |')) {
      const name = backticked(field ?? '')[0] as string;
      const objects = kind === 'both' ? [regionJson, rackJson] : kind === 'region' ? [regionJson] : [rackJson];
      for (const o of objects) t.ok(name in o, `${kind}: ${name} is in status --json`);
      const inner = new Set(objects.flatMap((o) => [...keysOf(o[name])]));
      for (const sub of backticked(meaning ?? ''))
        t.ok(inner.has(sub) || new RegExp(`\\b${sub}\\b`).test(help), `${name}.${sub} is in status --json (or in --help's JSON shape)`);
    }
    for (const { run, result } of outputs.filter((o) => o.run.jq)) {
      const filter = run.jq?.at(-1) ?? '';
      const named = [
        ...filter.matchAll(/\.(\w+)/g),
        ...[...filter.matchAll(/\{([^}]*)\}/g)].flatMap((m) => (m[1] as string).split(',').map((n) => /^\s*(\w+)\s*$/.exec(n))),
      ].flatMap((m) => (m ? [m[1] as string] : []));
      const keys = keysOf(JSON.parse(result.stdout));
      for (const name of named) t.ok(keys.has(name), `${filter}: ${name} is in the output`);
      if (jqPresent) {
        const jq = spawnSync('jq', run.jq ?? [], { input: result.stdout, encoding: 'utf8', timeout: scaled(10_000) });
        t.equal(jq.status, 0, `jq ${filter} runs on the real output ${jq.stderr}`);
      } else t.comment(`jq is not installed: ${filter} checked by its field names only`);
    }

    const rackText = outputs.find((o) => !isRegionRun(o.run) && plain(o.run, 'status'))?.result.stdout ?? '';
    t.match(rackText, new RegExp(`^rack sidecar http://127\\.0\\.0\\.1:${new URL(stack.rack.base).port}: ready$`, 'm'));
    t.match(rackText, /region sidecar reachable/);
    const fromRack = outputs.find((o) => !isRegionRun(o.run) && plain(o.run, 'status', '--region'))?.result.stdout ?? '';
    t.match(fromRack, /^region sidecar http:\/\/127\.0\.0\.1:\d+: ready$/m, 'status --region asks the region sidecar at REGION_SIDECAR_URL');

    const plans = outputs.filter((o) => o.run.args[0] === 'plan');
    t.ok(plans.length > 0);
    for (const { result } of plans) t.match(result.stdout, `${stack.sim.url}: converged, nothing to change`);
    t.ok(
      stack.api.execs.some(
        (e) =>
          e.pod === regionWorkload?.podName &&
          e.container === execContainer &&
          e.argv.join(' ') === `maas-region apikey --username ${envValue(regionSidecar, 'MAAS_ADMIN_USERNAME')}`,
      ),
      "plan --use-region-cli read the admin key through an exec into the pod's MAAS container",
    );

    const versionGreps = checked.logGreps.filter((g) => g.section !== ROTATION);
    t.ok(versionGreps.length > 0, "the guide greps the region sidecar's log for the MAAS version");
    for (const { pattern } of versionGreps) {
      const lines = stack.region.proc.stdout.filter((l) => l.includes(pattern));
      t.ok(lines.length > 0, `grep ${pattern} finds the line`);
      t.equal((JSON.parse(lines[0] ?? '{}') as { version?: string }).version, SIMULATED_VERSION.version, 'it carries the MAAS version');
    }

    // With the tls component, status in the region container refuses to guess; plan is not affected.
    const tls = new Rendered(renderKustomization({ resources: ['deploy/overlays/production'], components: ['deploy/components/tls'] }));
    const inTls = (run: SidecarRun): SidecarRun => {
      const workload = tls.workloads.find((w) => w.name === run.target.workload.name) as Workload;
      return { ...run, target: { ...run.target, workload }, container: tls.container(workload, run.container.name) as Container };
    };
    const tlsRuns = await runEach(t, stack, checked.runs.filter((r) => isRegionRun(r) && r.jq === undefined).map(inTls));
    for (const [run, result] of tlsRuns) {
      if (run.args[0] === 'status') {
        t.equal(result.code, 2, `with the tls component: ${run.line}`);
        t.match(result.stderr, 'this region sidecar serves TLS');
      } else t.equal(result.code, 0, `with the tls component: ${run.line}`);
    }
    t.match(FLAT, 'With the `tls` component');
    const rackInTls = tls.container(tls.workloads.find((w) => w.name === rackWorkload.name) as Workload, 'rack-sidecar') as Container;
    const certificate = tls.object('Certificate', tls.secrets().has('maas-region-sidecar-tls') ? 'maas-region-sidecar-tls' : '') as unknown as
      { spec: { dnsNames: string[] } } | undefined;
    t.ok(
      certificate?.spec.dnsNames.includes(new URL(envValue(rackInTls, 'REGION_SIDECAR_URL') ?? 'http://x').hostname),
      'racks ask the region sidecar at a name its certificate holds',
    );
    t.ok(envValue(rackInTls, 'REGION_SIDECAR_CA_FILE'), 'and trust its CA: status --region works there');

    const exported = new Set(`${await stack.region.metrics()}\n${await stack.rack.metrics()}`.split('\n').flatMap((l) => /^(\w+)/.exec(l)?.[1] ?? []));
    for (const metric of new Set(DOC.match(/\bmaas_sidecar_\w+/g) ?? [])) t.ok(exported.has(metric), `${metric} is exported`);
  });

  await t.test("rotating the sidecar token: the guide's three steps refuse nothing; a straggler recovers by itself", async (t) => {
    // The Secret values the guide's commands make, evaluated by a shell as kubectl's would be.
    const OLD = TOKEN;
    const NEW = 'operations-guide-token-rotated-9876543210';
    const values = shell
      .filter((c) => c.section === ROTATION && / create secret generic /.test(c.line))
      .map(({ line }) => {
        const literal = segments(line)[0]?.argv.find((w) => w.startsWith('--from-literal=token=')) ?? '';
        const shellOut = spawnSync('bash', ['-c', `printf %s "${literal.slice('--from-literal=token='.length)}"`], {
          env: { PATH: process.env.PATH ?? '', OLD, NEW },
          encoding: 'utf8',
        });
        return shellOut.stdout;
      });
    t.same(values, [`${OLD}\n${NEW}`, `${NEW}\n${OLD}`, NEW], 'old and new, new and old, new');
    const [regionFile, rackFile] = tokenFiles;
    const regionGrep = checked.logGreps.find((g) => g.section === ROTATION && g.container === regionSidecar.name);
    const rackGrep = checked.logGreps.find((g) => g.section === ROTATION && g.container !== regionSidecar.name);
    t.ok(regionGrep && rackGrep, "the guide greps both sidecars' logs");
    const logged = (lines: readonly string[], pattern: string) => lines.filter((l) => l.includes(pattern)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const metric = async (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(await stack.region.metrics())?.[1] ?? NaN);
    const accepted = (line: 'first' | 'second') => metric(`maas_sidecar_token_accepted_total{line="${line}"}`);
    const refusals = () => metric('maas_sidecar_rejected_total{reason="unauthorized"}');
    const watchFailures = () => stack.rack.proc.stdout.filter((l) => l.includes('"watching the region failed"')).length;
    const registrations = () => stack.rack.proc.stdout.filter((l) => l.includes('"registering the rack"')).length;
    /** Rack requests admitted on `line` go on while those on the other stay put. */
    const racksOn = async (line: 'first' | 'second') => {
      const other = line === 'first' ? 'second' : 'first';
      // One admitted on `line` first: a request sent before a re-read may still arrive after it.
      const begin = await accepted(line);
      await waitFor(async () => (await accepted(line)) > begin, { what: `a rack request admitted on the ${line} line`, timeoutMs: scaled(20_000) });
      const [start, still] = [await accepted(line), await accepted(other)];
      await waitFor(async () => (await accepted(line)) >= start + 2, { what: `rack requests admitted on the ${line} line`, timeoutMs: scaled(20_000) });
      return (await accepted(other)) === still;
    };
    const failuresBefore = watchFailures();
    const registeredBefore = registrations();

    // Step 1: the region's copy updates first, then the rack's; racks keep sending the old token.
    await writeFile(regionFile, values[0] ?? '');
    await waitFor(() => logged(stack.region.proc.stdout, regionGrep?.pattern ?? '').some((l) => l.tokens === 2), {
      what: 'the region re-reading two tokens',
      timeoutMs: scaled(20_000),
    });
    await writeFile(rackFile, values[0] ?? '');
    t.ok(await racksOn('first'), 'step 1: racks still send the old token, on the first line');

    // Step 2: the rack's copy updates first this time; either way the region accepts both.
    await writeFile(rackFile, values[1] ?? '');
    await waitFor(() => logged(stack.rack.proc.stdout, rackGrep?.pattern ?? '').length === 1, {
      what: 'the rack re-reading its token',
      timeoutMs: scaled(20_000),
    });
    t.ok(await racksOn('second'), "the rack sends the new token, still the region's second line");
    await writeFile(regionFile, values[1] ?? '');
    await waitFor(() => logged(stack.region.proc.stdout, regionGrep?.pattern ?? '').length === 2, {
      what: 'the region re-reading new and old',
      timeoutMs: scaled(20_000),
    });
    t.ok(await racksOn('first'), "step 2: the second line's count stops rising once racks have moved");

    // Step 3: the old token retired.
    await writeFile(regionFile, values[2] ?? '');
    await writeFile(rackFile, values[2] ?? '');
    await waitFor(() => logged(stack.region.proc.stdout, regionGrep?.pattern ?? '').some((l) => l.tokens === 1), {
      what: 'the region re-reading one token',
      timeoutMs: scaled(20_000),
    });
    t.ok(await racksOn('first'), 'step 3: racks go on with the new token');
    t.equal(await refusals(), 0, 'no request was refused');
    t.equal(watchFailures(), failuresBefore, 'the rack never lost the region');
    t.equal(registrations(), registeredBefore, 'nothing registered again');
    for (const [run, result] of await runEach(
      t,
      stack,
      checked.runs.filter((r) => r.section === ROTATION),
    )) {
      t.equal(result.code, 0, run.line);
      t.match(result.stdout, /: ready$/m, run.line);
    }

    // A rack whose copy still held the old token: refused, registration and DHCP kept, then back.
    await writeFile(rackFile, OLD);
    await waitFor(async () => (await stack.rack.status()).regionReachable === false, { what: 'the straggler refused', timeoutMs: scaled(20_000) });
    t.ok((await refusals()) > 0, 'the region counts the refusals');
    const state = await stack.sim.state();
    t.match(state.racks, [{ systemId: rackSystemId, rackd: 'running' }], 'the refused rack stays registered, rackd running');
    t.equal(state.vlans.find((v) => v.dhcpOn)?.primaryRack, rackSystemId, 'and stays the DHCP primary');
    await writeFile(rackFile, NEW);
    await waitFor(() => stack.rack.ready(), { what: 'the straggler back, without a restart', timeoutMs: scaled(20_000) });
    t.equal(registrations(), registeredBefore, 'it did not register again');
  });

  await t.test('a change pending and the region sidecar stopped: plan exits 3, status 1 where it cannot ask', async (t) => {
    stack.region.proc.child.kill('SIGTERM');
    t.equal(await stack.region.proc.exited, 0);
    const admin = await stack.sim.admin();
    const subnet = (await stack.sim.state()).subnets.find((s) => s.gatewayIp !== null);
    await admin.updateSubnet(subnet?.id ?? 0, { gateway_ip: '10.7.200.254' });
    await waitFor(async () => (await stack.rack.status()).regionReachable === false, { what: 'the rack noticing the region sidecar gone' });
    for (const [run, result] of await runEach(
      t,
      stack,
      checked.runs.filter((r) => r.jq === undefined),
    )) {
      if (run.args[0] === 'plan') {
        t.equal(result.code, run.args.includes('--detailed-exitcode') ? 3 : 0, `${run.line}: changes pending`);
        t.match(result.stdout, `set subnet ${subnet?.cidr} gateway 10.7.200.254 -> ${subnet?.gatewayIp}`);
      } else if (isRegionRun(run) || run.args.includes('--region')) {
        t.equal(result.code, 1, `${run.line}: the region sidecar cannot be asked`);
        t.match(result.stderr, 'could not reach the sidecar');
      } else {
        t.equal(result.code, 0, `${run.line}: the rack sidecar answers`);
        t.match(result.stdout, /^rack sidecar \S+: NOT READY \(region: region sidecar not reachable/m);
      }
    }
  });
});

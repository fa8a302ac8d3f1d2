/**
 * The Grafana dashboard the monitoring component ships: it parses, sits in a ConfigMap Grafana's
 * dashboard sidecar picks up, every panel query passes Prometheus's own parser (promtool check rules
 * on recording rules made of the queries), and every metric it names (and every metric the alert
 * rules name) is exported by the sidecars, read from the /metrics of a region and a rack sidecar
 * running against the simulator.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { REPO, render, type K8sObject } from '../helpers/k8s.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { everyCombination } from './render.js';

const run = promisify(execFile);

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
}

const FILE = join(REPO, 'deploy/components/monitoring/dashboard.json');
const text = await readFile(FILE, 'utf8');
const dashboard = JSON.parse(text) as Dashboard;
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ panel: p, target })));

/** What Grafana substitutes before a query reaches Prometheus: its built-ins and the dashboard's variables. */
const SUBSTITUTIONS: Record<string, string> = { __rate_interval: '2m', __interval: '1m', __range: '6h', namespace: 'maas' };
const interpolate = (expr: string) =>
  expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = SUBSTITUTIONS[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });

/** Metric names a PromQL expression reads: ours by prefix, and `up`. */
const metricNames = (expr: string) => [...new Set([...expr.matchAll(/\bmaas_sidecar_[a-z0-9_]+\b|\bup(?=\{)/g)].map((m) => m[0]))];

async function checkRules(exprs: string[]): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'promtool-dashboard-'));
  try {
    const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
    await writeFile(join(dir, 'queries.yaml'), YAML.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { stdout, stderr } = await run('promtool', ['check', 'rules', join(dir, 'queries.yaml')], { timeout: 60_000 });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof e.code !== 'number') throw err;
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('the dashboard is well formed', async (t) => {
  t.equal(dashboard.uid, 'maas-sidecars');
  const ids = dashboard.panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of dashboard.panels) t.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
  for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
    t.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
    t.same(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title} uses the data source variable`);
  }
  t.same(
    dashboard.templating.list.map((v) => v.name),
    ['datasource', 'namespace'],
  );
  for (const { panel, target } of queries) t.ok(metricNames(target.expr).length > 0, `${panel.title}/${target.refId} names a metric`);
  const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
  for (const topic of [
    'conflicts',
    'reconcile duration',
    'registrations',
    'dhcp on, per declared subnet',
    'maas api latency',
    'maas api errors',
    'watch',
    'rejected',
  ]) {
    t.match(titles, topic, `a panel on ${topic}`);
  }
});

t.test("the monitoring component ships it in a ConfigMap for Grafana's dashboard sidecar", async (t) => {
  for (const rendering of everyCombination().filter((r) => r.components.includes('monitoring'))) {
    const cm = rendering.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'maas-sidecar-dashboard') as
      (K8sObject & { data: Record<string, string> }) | undefined;
    t.equal(cm?.metadata.labels?.grafana_dashboard, '1', `${rendering.name}: labelled grafana_dashboard=1`);
    t.same(JSON.parse(cm?.data['maas-sidecar.json'] ?? 'null'), dashboard, `${rendering.name}: holds dashboard.json`);
  }
  t.notOk(
    render('single-node').some((o) => o.metadata.name === 'maas-sidecar-dashboard'),
    'only with the component',
  );
});

t.test("every panel query passes promtool's PromQL parser", async (t) => {
  const exprs = queries.map(({ target }) => interpolate(target.expr));
  const { ok, output } = await checkRules(exprs);
  t.ok(ok, output);
  t.match(output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  const broken = await checkRules(['sum by (job (rate(maas_sidecar_reconcile_total[5m]))']);
  t.notOk(broken.ok, 'the check is live: a malformed query fails');
});

t.test('every metric the dashboard and the alerts name is exported by a running sidecar', async (t) => {
  t.ok(existsSync(join(REPO, 'dist/cli.js')), 'the sidecar is built (npm run build)');
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(() => rack.ready(), { what: 'rack ready', timeoutMs: scaled(30_000) });
  // A pass after the rack joined: DHCP, racks and conflicts are all measured.
  await waitFor(async () => /^maas_sidecar_dhcp_enabled\{cidr="10\.7\.200\.0\/24"\} 1$/m.test(await region.metrics()), {
    what: 'DHCP on in the region metrics',
    timeoutMs: scaled(30_000),
  });

  // Exported: every sample's name, and every declared family (a labelled gauge with no label set yet,
  // has no sample) with its series' suffixes.
  const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };
  const exported = new Set<string>();
  for (const exposition of [await region.metrics(), await rack.metrics()]) {
    for (const line of exposition.split('\n')) {
      const declared = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (declared) for (const suffix of SUFFIXES[declared[2]!] ?? ['']) exported.add(`${declared[1]}${suffix}`);
      else if (line && !line.startsWith('#')) exported.add(line.split(/[{ ]/)[0]!);
    }
  }
  const PROMETHEUS = new Set(['up']); // made by Prometheus for every target

  const fromDashboard = new Set(queries.flatMap(({ target }) => metricNames(target.expr)));
  for (const name of fromDashboard) t.ok(exported.has(name) || PROMETHEUS.has(name), `dashboard: ${name} is exported`);

  const rule = render('production').find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
  for (const r of rule.spec.groups.flatMap((g) => g.rules)) {
    for (const name of metricNames(r.expr)) t.ok(exported.has(name) || PROMETHEUS.has(name), `${r.alert}: ${name} is exported`);
  }
});

/** The real Prometheus checker: the alert rules parse and evaluate, and both sidecars' /metrics pass its lint. */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { render } from '../helpers/k8s.js';
import { newRegistry, createRackMetrics, createRegionMetrics, recordPass } from '../../src/telemetry/metrics.js';

t.test('promtool check rules accepts the PrometheusRule groups', async (t) => {
  const rule = render('production').find((o) => o.kind === 'PrometheusRule') as { spec: { groups: { rules: unknown[] }[] } } | undefined;
  t.ok(rule);
  const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'rules.yaml'), YAML.stringify({ groups: rule?.spec.groups }));
  const out = execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
  t.match(out, new RegExp(`SUCCESS: ${rule?.spec.groups.flatMap((g) => g.rules).length} rules found`));
});

/** promtool check metrics reads the exposition on stdin; exit 0 and no output means clean. */
function lint(exposition: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

t.test('the region sidecar metrics pass promtool check metrics', async (t) => {
  const registry = newRegistry();
  const metrics = createRegionMetrics(registry, { generationAgeSeconds: () => 12 });
  recordPass(metrics)({ ok: true, seconds: 0.2 });
  metrics.observeRequest({ endpoint: 'GET subnets/', status: 200, seconds: 0.01 });
  metrics.dhcpEnabled.set({ cidr: '10.7.200.0/24' }, 1);
  t.same(lint(await registry.metrics()), { status: 0, output: '' });
});

t.test('the rack sidecar metrics pass promtool check metrics', async (t) => {
  const registry = newRegistry();
  const metrics = createRackMetrics(registry, { generationAgeSeconds: () => 3, dhcpdState: () => 'running' });
  recordPass(metrics)({ ok: false, seconds: 1.5 });
  metrics.registrations.inc({ result: 'success' });
  metrics.registrationDuration.observe(0.4);
  t.same(lint(await registry.metrics()), { status: 0, output: '' });
});

t.test('the lint is live: a badly named counter is reported', async (t) => {
  const bad = lint('# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n');
  t.match(bad.output, /counter metrics should have "_total" suffix/);
});

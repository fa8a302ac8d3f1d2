/**
 * The alert rules as the production overlay renders them, unit-tested by `promtool test rules`
 * (alerts.promtool.yaml): every alert fires where it should and stays silent where it should. The
 * suite is shown to be live: rules that never fire, rules that always fire, and the two expressions
 * issue 10 found broken all fail it. Every rule links its own section of docs/runbook.md. The
 * certificate-expiry warning and critical alert do not overlap, and the warning sits below every
 * renewal cert-manager is asked for, so a renewal that works never warns.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { REPO, render } from '../helpers/k8s.js';
import { renderKustomization } from './render.js';

const run = promisify(execFile);

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Groups {
  groups: { name: string; rules: AlertRule[] }[];
}

const rule = render('production').find((o) => o.kind === 'PrometheusRule') as unknown as { spec: Groups };
const alerts = rule.spec.groups.flatMap((g) => g.rules);
const SUITE = join(REPO, 'test/deploy/alerts.promtool.yaml');
const RUNBOOK = 'https://github.com/maas-sidecar/maas-sidecar/blob/main/docs/runbook.md#';

/** Runs the suite against `groups`; exit status and everything promtool printed. */
async function promtoolTest(groups: Groups): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'promtool-test-'));
  try {
    await writeFile(join(dir, 'rules.yaml'), YAML.stringify(groups));
    await copyFile(SUITE, join(dir, 'alerts.promtool.yaml'));
    const { stdout, stderr } = await run('promtool', ['test', 'rules', 'alerts.promtool.yaml'], { cwd: dir, timeout: 60_000 });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string; code?: unknown };
    if (typeof e.code !== 'number') throw err; // promtool missing or killed by the timeout: not a verdict
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same groups with each alert's expression replaced. */
const withExprs = (replace: (r: AlertRule) => string): Groups => ({
  groups: rule.spec.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: replace(r) })) })),
});

/** Alert names promtool reports as failed. */
const failedAlerts = (output: string) => new Set([...output.matchAll(/alertname: (\w+), time:/g)].map((m) => m[1]));

t.test('the alerts the monitoring component ships', async (t) => {
  t.same(alerts.map((a) => a.alert).sort(), [
    'MaasDhcpOff',
    'MaasNotConverged',
    'MaasRackNotRegistered',
    'MaasRackRegionUnreachable',
    'MaasReconcileFailing',
    'MaasRegionNotReady',
    'MaasRequestsRejected',
    'MaasSidecarAbsent',
    'MaasSidecarDown',
    'MaasTlsCertificateExpiringSoon',
    'MaasTlsCertificateExpiryImminent',
  ]);
});

t.test('promtool test rules: every alert fires and stays silent where it should', async (t) => {
  const { ok, output } = await promtoolTest(rule.spec);
  t.ok(ok, output);
  t.match(output, /SUCCESS/);
});

t.test('the suite has a firing and a silent case for every alert', async (t) => {
  const suite = YAML.parse(await readFile(SUITE, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
  const cases = suite.tests.flatMap((s) => s.alert_rule_test ?? []);
  for (const { alert } of alerts) {
    t.ok(
      cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
      `${alert} fires`,
    );
    t.ok(
      cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
      `${alert} stays silent`,
    );
  }
});

t.test('the suite is live: rules that never fire, or always fire, fail it for every alert', async (t) => {
  const never = await promtoolTest(withExprs(() => 'vector(1) == 0'));
  t.notOk(never.ok);
  const always = await promtoolTest(withExprs(() => 'vector(1)'));
  t.notOk(always.ok);
  for (const { alert } of alerts) {
    t.ok(failedAlerts(never.output).has(alert), `${alert}: a firing case fails when it never fires`);
    t.ok(failedAlerts(always.output).has(alert), `${alert}: a silent case fails when it always fires`);
  }
});

t.test('the two expressions issue 10 found broken fail the suite', async (t) => {
  const broken: Record<string, string> = {
    // `and` without ignoring(result) matches nothing: never fires.
    MaasReconcileFailing:
      'increase(maas_sidecar_reconcile_total{result="failure"}[15m]) > 3 and increase(maas_sidecar_reconcile_total{result="success"}[15m]) == 0',
    // Fires for a subnet declared with dhcp: false.
    MaasDhcpOff: 'maas_sidecar_dhcp_enabled == 0',
  };
  for (const [alert, expr] of Object.entries(broken)) {
    const { ok, output } = await promtoolTest(withExprs((r) => (r.alert === alert ? expr : r.expr)));
    t.notOk(ok, `${alert} as it was fails`);
    t.same([...failedAlerts(output)], [alert], `only ${alert} fails`);
  }
});

t.test('the two expiry alerts do not overlap: the warning without its lower bound fails the suite', async (t) => {
  const warning = alerts.find((a) => a.alert === 'MaasTlsCertificateExpiringSoon')!;
  const unbounded = warning.expr.replace(/ >= time\(\) \+ \d+ \* 86400$/, '');
  t.not(unbounded, warning.expr, 'the lower bound is where the test expects it');
  const { ok, output } = await promtoolTest(withExprs((r) => (r.alert === warning.alert ? unbounded : r.expr)));
  t.notOk(ok, 'it would fire beside the critical one');
  t.same([...failedAlerts(output)], [warning.alert]);
});

t.test("a certificate renewed on time never warns: cert-manager renews every certificate before the warning's threshold", async (t) => {
  const days = (expr: string) => Number(/< time\(\) \+ (\d+) \* 86400/.exec(expr)?.[1] ?? NaN);
  const threshold = days(alerts.find((a) => a.alert === 'MaasTlsCertificateExpiringSoon')!.expr);
  t.equal(threshold, 14);
  t.equal(days(alerts.find((a) => a.alert === 'MaasTlsCertificateExpiryImminent')!.expr), 2);
  const objects = renderKustomization({ resources: ['deploy/overlays/production'], components: ['deploy/components/tls', 'deploy/components/tls/mtls'] });
  const certificates = objects.filter((o) => o.kind === 'Certificate' && !(o.spec as { isCA?: boolean }).isCA);
  t.same(certificates.map((c) => c.metadata.name).sort(), ['maas-rack-sidecar-tls', 'maas-region-sidecar-tls'], 'the certificates the sidecars present');
  for (const c of certificates) {
    const { renewBefore } = c.spec as { renewBefore: string };
    t.ok(
      Number(/^(\d+)h$/.exec(renewBefore)?.[1]) > threshold * 24,
      `${c.metadata.name}: renewed ${renewBefore} before its end, ahead of the ${threshold}-day warning`,
    );
  }
});

t.test('every rule has a severity, a summary, a description and its own runbook section', async (t) => {
  const runbook = await readFile(join(REPO, 'docs/runbook.md'), 'utf8');
  const sections = new Map<string, string>();
  for (const part of runbook.split(/^## /m).slice(1)) {
    const [title = '', ...body] = part.split('\n');
    sections.set(
      title
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
      body.join('\n'),
    );
  }
  for (const a of alerts) {
    t.match(a.labels?.severity, /^(warning|critical)$/, `${a.alert} severity`);
    t.ok(a.annotations?.summary && a.annotations.description, `${a.alert} summary and description`);
    const url = a.annotations?.runbook_url ?? '';
    t.ok(url.startsWith(RUNBOOK), `${a.alert}: ${url} points into docs/runbook.md`);
    const anchor = url.slice(RUNBOOK.length);
    t.equal(anchor, a.alert.toLowerCase(), `${a.alert}: the anchor is its own`);
    const body = sections.get(anchor);
    t.ok(body, `docs/runbook.md has a "## ${a.alert}" section`);
    for (const part of ['What it means', 'How to check', 'What to do']) t.match(body ?? '', new RegExp(`\\*\\*${part}\\.?\\*\\*`), `${a.alert}: ${part}`);
  }
});

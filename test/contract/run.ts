/**
 * Differential contract suite: each scenario of a group in scenarios.ts runs against the simulator
 * and a real MAAS 3.5 region from the same baseline; any difference fails unless allow-list.ts
 * explains it. Real MAAS is the authority: a difference is fixed in the simulator (or the client).
 */
import { appendFileSync } from 'node:fs';
import type { Test } from 'tap';
import { realMaasKit } from '../helpers/real-maas.js';
import { realBackend, simulatorBackend, type Backend } from './backends.js';
import { compare, type Difference } from './compare.js';
import { allowed } from './allow-list.js';
import { SCENARIO_GROUPS, type RackdStep, type Scenario, type Step } from './scenarios.js';

export function runContract(t: Test): void {
  const kit = realMaasKit();
  if ('missing' in kit) {
    t.plan(0, kit.missing);
    return;
  }
  const counts = { scenarios: 0, differences: 0, allowed: 0 };
  let sim: Backend;
  let real: Backend;
  t.before(async () => {
    [sim, real] = await Promise.all([simulatorBackend(t), realBackend(t, kit)]);
  });

  for (const [group, scenarios] of Object.entries(SCENARIO_GROUPS)) {
    t.test(group, async (t) => {
      for (const scenario of scenarios) {
        await t.test(scenario.name, async (t) => {
          const diffs = await runScenario(sim, real, scenario);
          counts.scenarios++;
          counts.differences += diffs.length;
          const unexplained = diffs.filter((diff) => !allowed(scenario.name, diff));
          counts.allowed += diffs.length - unexplained.length;
          t.same(unexplained, [], 'simulator and real MAAS agree');
        });
      }
    });
  }

  t.teardown(() => {
    t.comment(`contract: ${counts.scenarios} scenarios compared, ${counts.differences} differences, ${counts.allowed} allow-listed`);
  });
}

async function runScenario(sim: Backend, real: Backend, scenario: Scenario): Promise<Difference[]> {
  const [simRefs, realRefs] = await Promise.all([prepare(sim, scenario), prepare(real, scenario)]);
  const [simAnswer, realAnswer] = await Promise.all([sim.send(scenario.request, simRefs), real.send(scenario.request, realRefs)]);
  const diffs = compare(simAnswer, simRefs, realAnswer, realRefs, scenario.values, scenario.mask);
  // CONTRACT_REPORT=FILE appends every difference as a JSON line, for reading a whole run at once.
  if (process.env.CONTRACT_REPORT && diffs.length > 0) {
    appendFileSync(process.env.CONTRACT_REPORT, `${JSON.stringify({ scenario: scenario.name, diffs })}\n`);
  }
  return diffs;
}

const isRackd = (step: Step | RackdStep): step is RackdStep => 'rackd' in step;

type Part = 'ranges' | 'vlan' | 'subnet' | 'settings' | RackdStep['rackd'];

/** What each backend's previous scenario may have changed, so the next resets only that. */
const dirty = new Map<Backend, Set<Part>>();
/** Everything is reset before the first scenario: a fresh region's settings differ (maas_name is the host's name). */
const dirtyParts = (backend: Backend): Set<Part> =>
  dirty.get(backend) ?? dirty.set(backend, new Set<Part>(['ranges', 'vlan', 'subnet', 'settings'])).get(backend)!;

function markChanges(backend: Backend, step: Step | RackdStep): void {
  const parts = dirtyParts(backend);
  if (isRackd(step)) parts.add(step.rackd);
  else if (step.method === 'GET') return;
  else if (step.path.startsWith('ipranges')) parts.add('ranges');
  else if (step.path.startsWith('fabrics')) parts.add('vlan');
  else if (step.path.startsWith('subnets')) parts.add('subnet');
  else if (step.path.startsWith('maas')) parts.add('settings');
}

/** Resets what the last scenario changed, then runs this one's setup; answers the refs it ends with. */
async function prepare(backend: Backend, scenario: Scenario): Promise<Record<string, string>> {
  const refs: Record<string, string> = { ...backend.refs };
  await reset(backend);
  for (const step of [...(scenario.setup ?? []), scenario.request]) markChanges(backend, step);
  for (const step of scenario.setup ?? []) {
    if (isRackd(step)) {
      await backend.rackd(refs[step.rackd] as string, step.status);
      continue;
    }
    const answer = await backend.send(step, refs);
    if (answer.status >= 300) throw new Error(`setup ${step.method} ${step.path} on ${backend.name}: ${answer.status} ${answer.text.slice(0, 300)}`);
    for (const [ref, field] of Object.entries(step.capture ?? {})) refs[ref] = String((JSON.parse(answer.text) as Record<string, unknown>)[field]);
  }
  return refs;
}

async function must(backend: Backend, step: Step): Promise<string> {
  const answer = await backend.send(step);
  if (answer.status >= 300) throw new Error(`reset ${step.method} ${step.path} on ${backend.name}: ${answer.status} ${answer.text.slice(0, 300)}`);
  return answer.text;
}

/** Back to the baseline: no ranges, DHCP off without racks, no gateway or DNS, default settings, racks running. */
async function reset(backend: Backend): Promise<void> {
  const parts = dirtyParts(backend);
  for (const rack of ['rack1', 'rack2', 'rack3'] as const) if (parts.has(rack)) await backend.rackd(backend.refs[rack] as string, 'running');
  if (parts.has('ranges') || parts.has('vlan')) {
    const vlan = 'fabrics/{fabric}/vlans/{vid}/';
    await must(backend, { method: 'PUT', path: vlan, form: { dhcp_on: 'false', secondary_rack: '' } });
    await must(backend, { method: 'PUT', path: vlan, form: { primary_rack: '', mtu: '1500', relay_vlan: '' } });
    const ranges = JSON.parse(await must(backend, { method: 'GET', path: 'ipranges/' })) as { id: number }[];
    for (const range of ranges) await must(backend, { method: 'DELETE', path: `ipranges/${range.id}/` });
  }
  if (parts.has('subnet')) {
    await must(backend, {
      method: 'PUT',
      path: 'subnets/{subnet}/',
      form: { gateway_ip: '', dns_servers: '', allow_dns: 'true', allow_proxy: 'true', managed: 'true', rdns_mode: '2' },
    });
  }
  if (parts.has('settings')) {
    for (const [name, value] of [
      ['upstream_dns', ''],
      ['dnssec_validation', 'auto'],
      ['ntp_servers', 'ntp.ubuntu.com'],
      ['maas_name', 'maas'],
    ]) {
      await must(backend, { method: 'POST', path: 'maas/', form: { op: 'set_config', name: name as string, value: value as string } });
    }
  }
  parts.clear();
}

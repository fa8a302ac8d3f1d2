/**
 * `maas-sidecar status` while the region sidecar cannot converge: a failed pass with the changes
 * still pending, in MAAS order; then, once MAAS takes writes again, nothing pending and the
 * conflict left for a person.
 */
import t from 'tap';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import type { RegionStatus } from '../../src/protocol/v1.js';
import { portOf, status, tokenFiles } from './status-support.js';

t.test('a failed pass shows what is pending; a converged one the conflict it left', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:status-password']);
  const admin = await sim.admin();
  await admin.createIpRange({ type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab switches' });
  // MAAS refuses the gateway write: every pass fails there, with everything after it pending.
  await sim.control('PUT', 'faults', { errorRate: 1, errorStatus: 500, match: 'PUT /MAAS/api/2.0/subnets/' });
  const region = await startRegionProcess(t, sim);
  const regionStatus = async () => (await (await region.v1('status')).json()) as RegionStatus;
  await waitFor(async () => (await regionStatus()).lastPass?.ok === false, { what: 'a failed pass', timeoutMs: scaled(20_000) });
  const { good } = await tokenFiles(t);
  const env = { SIDECAR_LISTEN_PORT: portOf(region.base), SIDECAR_TOKEN_FILE: good };

  const [failedText, failedJson] = await Promise.all([status(t, [], env), status(t, ['--json'], env)]);
  t.equal(failedText.code, 0, 'a failing sidecar still answers: exit 0');
  t.match(
    failedText.stdout,
    /^ {2}reconcile: +last pass FAILED \(could not set subnet 10\.7\.200\.0\/24 gateway none -> 10\.7\.200\.1, DNS none -> 10\.7\.200\.1: MAAS .* answered 500/m,
  );
  t.match(
    failedText.stdout,
    /^ {2}pending: +1 change\(s\), in order:\n {4}1\. set subnet 10\.7\.200\.0\/24 gateway none -> 10\.7\.200\.1, DNS none -> 10\.7\.200\.1$/m,
  );
  t.equal(failedJson.code, 0, failedJson.stderr);
  t.match(JSON.parse(failedJson.stdout), {
    lastReconcile: { result: 'failure', error: /answered 500/ },
    loop: { lastError: /answered 500/ },
    pending: [{ kind: 'setSubnetNetworking', field: String, description: 'set subnet 10.7.200.0/24 gateway none -> 10.7.200.1, DNS none -> 10.7.200.1' }],
  });

  await sim.control('DELETE', 'faults');
  await waitFor(async () => (await regionStatus()).lastPass?.ok === true, { what: 'a pass succeeding once MAAS takes writes', timeoutMs: scaled(45_000) });
  const [text, json] = await Promise.all([status(t, [], env), status(t, ['--json'], env)]);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /^ {2}pending: +none \(converged\)$/m);
  t.match(text.stdout, /^ {2}conflicts: +\d+, left alone for a person:\n {4}- range_conflict 10\.7\.200\.0\/24: /m);
  const parsed = JSON.parse(json.stdout) as { pending: unknown[]; conflicts: { kind: string; cidr: string }[]; lastReconcile: { result: string } };
  t.same(parsed.pending, []);
  t.equal(parsed.lastReconcile.result, 'success');
  t.ok(
    parsed.conflicts.some((c) => c.kind === 'range_conflict' && c.cidr === '10.7.200.0/24'),
    'the foreign range is a conflict',
  );
});

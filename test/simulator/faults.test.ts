import t from 'tap';
import { startSimulator } from '../helpers/simulator.js';

t.test('notReady: every /MAAS/ request answers 503 until cleared', async (t) => {
  const s = await startSimulator(t);
  await s.control('PUT', 'faults', { notReady: true });
  t.equal((await s.api('GET', 'version/', { key: null })).status, 503);
  await s.control('DELETE', 'faults');
  t.equal((await s.api('GET', 'version/', { key: null })).status, 200);
});

t.test('errorCount is used up, then answers are normal', async (t) => {
  const s = await startSimulator(t);
  await s.control('PUT', 'faults', { errorCount: 2, errorStatus: 500 });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await s.api('GET', 'version/', { key: null })).status);
  t.same(statuses, [500, 500, 200]);
});

t.test('match limits faults to matching requests; the control API is never affected', async (t) => {
  const s = await startSimulator(t);
  await s.control('PUT', 'faults', { errorRate: 1, match: 'ipranges' });
  t.equal((await s.api('GET', 'subnets/')).status, 200);
  t.equal((await s.api('GET', 'ipranges/')).status, 503);
  t.match(await s.control('GET', 'faults'), { errorRate: 1 });
});

t.test('a fault spec with an unknown field is rejected with 400', async (t) => {
  const s = await startSimulator(t);
  const response = await fetch(`${s.origin}/_sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ errorRat: 1 }),
  });
  t.equal(response.status, 400);
});

t.test('register outcomes are handed out once each: failures, then hangs', async (t) => {
  const s = await startSimulator(t);
  await s.control('PUT', 'faults', { registerFailures: 1, registerHangs: 1 });
  const outcomes = [];
  for (let i = 0; i < 3; i++) outcomes.push(((await s.control('POST', 'rackd/register-attempt', {})) as { outcome: string }).outcome);
  t.same(outcomes, ['hang', 'fail', 'ok']);
});

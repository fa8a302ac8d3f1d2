/**
 * The contract suite's comparer, without a real MAAS: it must report every kind of difference it
 * claims to (a comparer that misses them would let the whole contract suite pass vacuously).
 */
import t from 'tap';
import { compare, shapeOf, unfill, valuesAt } from '../contract/compare.js';

const json = (status: number, body: unknown) => ({ status, text: JSON.stringify(body), contentType: 'application/json' });
const text = (status: number, body: string, contentType = 'text/plain; charset=utf-8') => ({ status, text: body, contentType });
const SIM = { rack1: 'abc123', subnet: '1' };
const REAL = { rack1: 'xyz789', subnet: '7' };
const whats = (diffs: { what: string }[]) => diffs.map((d) => d.what);

t.test('identical answers, ids aside, have no differences', async (t) => {
  const sim = json(200, { id: 1, primary_rack: 'abc123', vlan: { vid: 0 } });
  const real = json(200, { id: 7, primary_rack: 'xyz789', vlan: { vid: 0 } });
  t.same(compare(sim, SIM, real, REAL, ['primary_rack', 'vlan.vid']), []);
});

t.test('each kind of difference is reported', async (t) => {
  t.same(whats(compare(json(200, {}), SIM, json(201, {}), REAL)), ['status']);
  t.same(whats(compare(text(400, 'x'), SIM, text(400, 'x', 'text/html; charset=utf-8'), REAL)), ['content-type']);
  t.same(whats(compare(text(404, 'No Subnet matches'), SIM, text(404, 'No VLAN matches'), REAL)), ['body']);
  t.same(whats(compare(json(400, { a: ['m'] }), SIM, json(400, { __all__: ['m'] }), REAL)), ['body']);
  t.same(whats(compare(json(200, { a: 1, b: 'x' }), SIM, json(200, { a: 1 }), REAL)), ['shape b']);
  t.same(whats(compare(json(200, { gateway_ip: null }), SIM, json(200, { gateway_ip: '' }), REAL)), ['shape gateway_ip']);
  t.same(whats(compare(json(200, [{ dhcp_on: false }]), SIM, json(200, [{ dhcp_on: true }]), REAL, ['[].dhcp_on'])), ['value [].dhcp_on']);
  t.same(whats(compare(json(200, { primary_rack: 'abc123' }), SIM, json(200, { primary_rack: 'other1' }), REAL, ['primary_rack'])), ['value primary_rack']);
});

t.test('values compare as multisets; masks hide what differs by nature', async (t) => {
  t.same(compare(json(200, [{ n: 'a' }, { n: 'b' }]), SIM, json(200, [{ n: 'b' }, { n: 'a' }]), REAL, ['[].n']), []);
  t.same(compare(text(401, "Nonce already used: 111'"), SIM, text(401, "Nonce already used: 222'"), REAL, [], [/used: [^']+/]), []);
});

t.test('shapes merge list items; paths reach into lists; ids are put back as refs', async (t) => {
  t.same(
    [...shapeOf([{ a: 1 }, { a: null }]).entries()].map(([k, v]) => [k, [...v].sort()]),
    [
      ['', ['array']],
      ['[]', ['object']],
      ['[].a', ['null', 'number']],
    ],
  );
  t.same(valuesAt({ interface_set: [{ links: [{ ip: '1' }, { ip: '2' }] }] }, 'interface_set[].links'), [[{ ip: '1' }, { ip: '2' }]]);
  t.same(valuesAt([{ a: { b: 1 } }, { a: { b: 2 } }], '[].a.b'), [1, 2]);
  t.equal(unfill('abc123 is already the primary of subnet 1', SIM), '{rack1} is already the primary of subnet 1', 'numbers are left alone');
});

/** Fault matrix, MAAS side (dropped connections, malformed bodies): the end state must hold with nothing lost. */
import t from 'tap';
import { faultThenConverge } from './faults-maas-support.js';

const FAULTS: [string, Record<string, unknown>][] = [
  ['MAAS drops connections', { dropRate: 0.4 }],
  ['MAAS sends malformed JSON', { malformedRate: 0.4 }],
];

for (const [name, faults] of FAULTS) {
  t.test(`${name}: converged afterwards, nothing lost`, (t) => faultThenConverge(t, faults));
}

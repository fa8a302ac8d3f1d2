/** Fault matrix, MAAS side (errors): each fault, then the end state must hold with nothing lost. */
import t from 'tap';
import { faultThenConverge } from './faults-maas-support.js';

const FAULTS: [string, Record<string, unknown>][] = [
  ['MAAS answers 503 to everything for a while', { errorRate: 1, errorStatus: 503 }],
  ['MAAS answers 500 to half the calls', { errorRate: 0.5, errorStatus: 500 }],
];

for (const [name, faults] of FAULTS) {
  t.test(`${name}: converged afterwards, nothing lost`, (t) => faultThenConverge(t, faults));
}

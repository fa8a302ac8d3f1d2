/**
 * The plain-HTTP warning, with the real region sidecar against the simulator: serving /v1 without
 * TLS on a non-loopback address (0.0.0.0, reached here over 127.0.0.1) logs one warn line at
 * start-up, and no more however many passes follow; on loopback it logs none. "None" and "no
 * more" are read once the sidecar has logged what always comes after the check: the region's
 * answer and two reconcile passes.
 */
import t, { type Test } from 'tap';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRegionProcess, startSimulatorProcess, type RegionProcess } from '../helpers/stack.js';
import { EVENTS } from '../../src/protocol/events.js';

/** The region sidecar's JSON log lines with `event`. */
function logged(region: RegionProcess, event: string): Record<string, unknown>[] {
  return region.proc.stdout.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry.event === event ? [entry] : [];
    } catch {
      return [];
    }
  });
}

/** A region sidecar listening on `host`, once it has checked, answered the region and passed twice. */
async function settledRegion(t: Test, host: string): Promise<RegionProcess> {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, { SIDECAR_LISTEN_HOST: host });
  await waitFor(() => logged(region, EVENTS.regionAnswered).length > 0, { what: `${EVENTS.regionAnswered} logged`, timeoutMs: scaled(15_000) });
  await waitFor(async () => (await region.status()).loop.passes >= 2, { what: 'two reconcile passes', timeoutMs: scaled(15_000) });
  return region;
}

t.test('plain HTTP on 0.0.0.0: one warn line at start-up, naming the host', async (t) => {
  const region = await settledRegion(t, '0.0.0.0');
  t.equal(new URL(region.base).hostname, '127.0.0.1', 'reached over loopback');
  const warnings = logged(region, EVENTS.tlsOff);
  t.equal(warnings.length, 1, 'exactly one');
  t.match(warnings[0], { level: 40, host: '0.0.0.0', msg: /plain HTTP.*SIDECAR_TLS_CERT_FILE/ });
});

t.test('plain HTTP on 127.0.0.1: no warning', async (t) => {
  const region = await settledRegion(t, '127.0.0.1');
  t.same(logged(region, EVENTS.tlsOff), [], `no ${EVENTS.tlsOff} line`);
  t.notOk(
    region.proc.stdout.some((line) => line.includes('plain HTTP')),
    'nor any line about plain HTTP',
  );
});

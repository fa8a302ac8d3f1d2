/** A rack sidecar's readiness as processes see it: a restarted region sidecar is noticed at once, not after a long-poll. */
import t from 'tap';
import { closedPort } from '../helpers/ports.js';
import { startRackProcess, startRegionProcess } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { failedChecks, keyEnv, withAdmin } from './readiness-support.js';

t.test('a rack sees a restarted region sidecar within seconds, not after its long-poll', async (t) => {
  const sim = await withAdmin(t);
  const env = { ...keyEnv(sim), SIDECAR_LISTEN_PORT: String(await closedPort()) };
  const first = await startRegionProcess(t, sim, env);
  const rack = await startRackProcess(t, sim, first.base, 'rack-a', { env: { WATCH_WAIT_SECONDS: '30' } });
  await waitFor(() => rack.ready(), { what: 'rack ready', timeoutMs: scaled(30_000) });
  first.proc.child.kill('SIGKILL');
  await first.proc.exited;
  await waitFor(async () => (await failedChecks(rack.base)).includes('region'), { what: 'the rack to notice the region gone', timeoutMs: scaled(10_000) });
  // Same port, same secret: the rack's long-poll would carry the current ETag and be held 30 s.
  await startRegionProcess(t, sim, env);
  await waitFor(async () => !(await failedChecks(rack.base)).includes('region'), { what: "the rack's region check passing again", timeoutMs: scaled(5_000) });
});

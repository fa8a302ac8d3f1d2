/** Builds the region /v1 API on buildServer() for one test, with a log kept in memory. */
import { Registry } from 'prom-client';
import { buildServer } from '../../src/http/server.js';
import { regionApi, type RegionApiDeps } from '../../src/region/api.js';
import { Publication } from '../../src/region/publication.js';
import { memoryLogger } from './silent-logger.js';
import type { Teardownable } from './simulator.js';

export const TOKEN = 'test-token-0123456789';
export const auth = { authorization: `Bearer ${TOKEN}` };

export async function buildRegionApp(
  t: Teardownable,
  over: Partial<Omit<RegionApiDeps, 'token' | 'publication' | 'closing'>> = {},
  /** Runs before the app is ready: add hooks here. */
  before?: (app: ReturnType<typeof buildServer>) => unknown,
) {
  const log = memoryLogger();
  const publication = new Publication();
  const closing = new AbortController();
  let rejected = 0;
  const app = buildServer({ logger: log.logger, registry: new Registry(), liveness: () => undefined, readiness: {} });
  app.register(regionApi, {
    prefix: '/v1',
    token: TOKEN,
    publication,
    notReadyReason: () => undefined,
    rackStatus: async (hostname) => ({ hostname, registered: false, systemId: null, rackd: 'unknown', dhcpd: 'unknown', subnets: [] }),
    requestReconcile: () => undefined,
    onUnauthorized: () => rejected++,
    closing: closing.signal,
    ...over,
  });
  t.teardown(() => {
    closing.abort();
    return app.close();
  });
  await before?.(app);
  await app.ready();
  return { app, publication, closing, log, rejected: () => rejected };
}

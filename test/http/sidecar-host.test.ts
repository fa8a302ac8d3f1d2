/** The sidecar host both sidecars run on: /v1/status, /readyz, the loop's wiring, and stopping in order. */
import t from 'tap';
import { Registry } from 'prom-client';
import { SidecarHost, type SidecarHostOptions } from '../../src/sidecar/host.js';
import { RackSidecarStatusSchema, type RackSidecarStatus } from '../../src/protocol/v1.js';
import { bearerAuth } from '../../src/http/bearer.js';
import { createRackMetrics } from '../../src/telemetry/metrics.js';
import { TerminalError } from '../../src/errors.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import type { Teardownable } from '../helpers/simulator.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'test-token-0123456789';
/** Once a year: no schedule tick during a test. */
const YEARLY = '0 0 0 1 1 *';

const FIELDS = {
  hostname: 'rack-1',
  regionReachable: true,
  generation: null,
  generationSince: null,
  registered: false,
  systemId: null,
  rackd: 'unknown',
  dhcpd: 'unknown',
  subnets: [],
  missingSubnets: [],
  dhcpProblem: null,
} as const;

function host(t: Teardownable, over: Partial<SidecarHostOptions<RackSidecarStatus>> = {}) {
  const registry = new Registry();
  const log = memoryLogger();
  const sidecar = new SidecarHost<RackSidecarStatus>({
    kind: 'rack',
    logger: log.logger,
    registry,
    metrics: createRackMetrics(registry, { generationAgeSeconds: () => undefined, dhcpdState: () => undefined }),
    listen: { host: '127.0.0.1', port: 0 },
    schedule: YEARLY,
    loop: { pass: async () => undefined, timeoutMs: 1_000 },
    checks: { region: () => undefined, registered: () => 'not registered yet' },
    status: { schema: RackSidecarStatusSchema, fields: () => ({ ...FIELDS, subnets: [], missingSubnets: [] }) },
    files: () => [],
    run: async () => undefined,
    now: () => 1_000,
    ...over,
  });
  t.teardown(() => sidecar.stop());
  return { sidecar, log };
}

t.test('/v1/status: the sidecar fields, with readiness, the loop and the last pass filled in by the host', async (t) => {
  const { sidecar } = host(t);
  const r = await sidecar.app.inject({ method: 'GET', url: '/v1/status' });
  t.equal(r.statusCode, 200);
  t.same(r.json(), {
    kind: 'rack',
    now: 1_000,
    ready: false,
    checks: [
      { name: 'region', ok: true },
      { name: 'registered', ok: false, problem: 'not registered yet' },
    ],
    ...FIELDS,
    loop: { status: 'idle', passes: 0, consecutiveFailures: 0 },
    lastPass: null,
  });
});

t.test('/v1/status sends only what its schema declares', async (t) => {
  const { sidecar } = host(t, {
    status: { schema: RackSidecarStatusSchema, fields: () => ({ ...FIELDS, subnets: [], missingSubnets: [], secret: 'ab'.repeat(16) }) },
  });
  const r = await sidecar.app.inject({ method: 'GET', url: '/v1/status' });
  t.equal(r.statusCode, 200);
  t.notOk('secret' in r.json(), 'an undeclared field is dropped');
});

t.test('/readyz names the failed checks, never their reasons', async (t) => {
  const { sidecar } = host(t);
  const r = await sidecar.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(r.statusCode, 503);
  t.same(r.json(), { status: 'not ready', failed: ['registered'] });
});

t.test("a hook the sidecar's /v1 routes add guards /v1/status too", async (t) => {
  const { sidecar } = host(t, {
    v1: async (app) => {
      app.addHook(
        'onRequest',
        bearerAuth(TOKEN, () => undefined),
      );
      app.get('/other', async () => ({}));
    },
  });
  const refused = await sidecar.app.inject({ method: 'GET', url: '/v1/status' });
  t.equal(refused.statusCode, 401);
  t.equal(refused.body, '{"error":"unauthorized"}');
  const answered = await sidecar.app.inject({ method: 'GET', url: '/v1/status', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(answered.statusCode, 200);
  t.equal(answered.json().kind, 'rack');
});

t.test('start() serves; startLoop() runs a pass, counted, and shown as the last pass', async (t) => {
  let passes = 0;
  const { sidecar } = host(t, {
    loop: {
      pass: async () => {
        passes++;
        // Terminal: no retry to race the assertions below.
        throw new TerminalError('MAAS said no');
      },
      timeoutMs: 1_000,
    },
  });
  const address = await sidecar.start();
  t.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
  sidecar.startLoop();
  await waitFor(() => sidecar.status().lastPass !== null, { what: 'the first pass to end' });
  t.equal(passes, 1);
  t.match(sidecar.status().lastPass, { ok: false, finishedAt: 1_000, error: 'MAAS said no' });
  t.match(sidecar.status().loop, { consecutiveFailures: 1, lastError: 'MAAS said no' });
  const metrics = await (await fetch(`${address}/metrics`)).text();
  t.match(metrics, /^maas_sidecar_reconcile_total\{result="failure"\} 1$/m);
});

t.test('stop(): the background work ends first, then the loop, then close(), then the server', async (t) => {
  const order: string[] = [];
  const { sidecar } = host(t, {
    run: (signal) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          order.push('background work ended');
          resolve();
        }),
      ),
    loop: {
      pass: async (signal) => {
        order.push('pass started');
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        order.push('pass aborted');
      },
      timeoutMs: 60_000,
      abortOnStop: true,
    },
    close: async () => void order.push('closed'),
  });
  sidecar.app.addHook('onClose', async () => void order.push('server closed'));
  await sidecar.start();
  sidecar.startLoop();
  await waitFor(() => sidecar.status().loop.status === 'running', { what: 'a pass running' });
  await sidecar.stop();
  t.same(order, ['pass started', 'background work ended', 'pass aborted', 'closed', 'server closed']);
  t.equal(sidecar.status().loop.status, 'stopped');
});

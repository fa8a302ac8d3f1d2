/** buildSimulator(): the MAAS API simulator as a fastify app (it never listens by itself). */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { DEFAULT_PROVISIONING_CIDR, SimModel } from './model.js';
import { FaultState } from './faults.js';
import { registerApiRoutes, sendApiError } from './api/routes.js';
import { ApiError } from './api/support.js';
import { registerControlRoutes } from './control.js';
import { adminKey, createUser } from './region-admin.js';
import { writeStandins } from './standins/index.js';
import { writeFileAtomic } from './files.js';
import { sleep } from '../util/backoff.js';

export interface SimulatorOptions {
  /** Receives `secret`, `api-key` and the CLI stand-ins in `bin/`. */
  readonly stateDir: string;
  /** Start with this admin (as after `maas-region createadmin`); a fresh region has no users. */
  readonly admin?: { readonly username: string; readonly password: string; readonly email?: string };
  readonly provisioningCidrs?: readonly string[];
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface Simulator {
  readonly app: FastifyInstance;
  readonly model: SimModel;
  readonly faults: FaultState;
  readonly stateDir: string;
  /** Writes the stand-ins bound to `url` (the simulator's own address, known after listen). */
  bindStandins(url: string): Promise<void>;
}

export async function buildSimulator(options: SimulatorOptions): Promise<Simulator> {
  const provisioningCidrs = options.provisioningCidrs ?? [DEFAULT_PROVISIONING_CIDR];
  const model = SimModel.seeded(provisioningCidrs[0]);
  for (const cidr of provisioningCidrs.slice(1)) model.addSubnet(cidr);
  if (options.admin) {
    createUser(model, {
      username: options.admin.username,
      password: options.admin.password,
      email: options.admin.email ?? `${options.admin.username}@example.com`,
      isSuperuser: true,
    });
  }
  const faults = new FaultState(options.random);
  const now = options.now ?? Date.now;
  await mkdir(options.stateDir, { recursive: true });

  const syncFiles = async (): Promise<void> => {
    await writeFileAtomic(join(options.stateDir, 'secret'), model.secret, 0o640);
    const key = adminKey(model);
    if (key) await writeFileAtomic(join(options.stateDir, 'api-key'), `${key}\n`, 0o600);
    else await rm(join(options.stateDir, 'api-key'), { force: true });
  };
  await syncFiles();

  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/MAAS/')) return;
    const f = faults.current;
    if (!faults.applies(`${request.method} ${request.url}`)) return;
    if (f.latencyMs) await sleep(f.latencyMs);
    if (f.notReady) return reply.code(503).type('text/plain').send('Service Unavailable: MAAS is starting');
    if (faults.take('drop')) {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    if (faults.take('error')) {
      const status = f.errorStatus ?? 503;
      return reply
        .code(status)
        .type('text/plain')
        .send(status === 429 ? 'Too Many Requests' : 'Internal server error (injected)');
    }
    return undefined;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const isJson = String(reply.getHeader('content-type') ?? '').startsWith('application/json');
    if (!request.url.startsWith('/MAAS/') || !isJson || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    if (!faults.applies(`${request.method} ${request.url}`) || !faults.take('malformed')) return payload;
    return payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
  });

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof ApiError) return sendApiError(reply, err);
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: err instanceof Error ? err.message : String(err) });
    }
    request.log.error({ err }, 'simulator handler failed');
    return reply.code(500).type('text/plain').send('Internal server error');
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain').send('Not Found'));

  registerApiRoutes(app, model, now);
  registerControlRoutes(app, { model, faults, provisioningCidrs, syncFiles });

  return {
    app,
    model,
    faults,
    stateDir: options.stateDir,
    bindStandins: (url) => writeStandins(join(options.stateDir, 'bin'), url),
  };
}

/** buildServer(): the fastify app both sidecars serve. It never listens; the command does. */
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { healthPlugin, type ReadyCheck } from './health.js';
import { metricsPlugin } from './metrics.js';

export interface ServerDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Liveness beyond the event loop: return a problem, or undefined when alive. */
  readonly liveness: () => string | undefined;
  readonly readiness: Readonly<Record<string, ReadyCheck>>;
}


export function buildServer(deps: ServerDeps) {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: (request) => !request.url.startsWith('/v1') }),
    // Nothing the sidecars accept has a body worth more than this.
    bodyLimit: 16 * 1024,
    // Bounded path parameters; a client that dawdles is cut off.
    routerOptions: { maxParamLength: 256 },
    requestTimeout: 120_000,
    return503OnClosing: true,
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.register(healthPlugin, { liveness: deps.liveness, readiness: deps.readiness });
  app.register(metricsPlugin, { registry: deps.registry });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));
  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    // Client errors say what was wrong with the request; server errors say nothing internal.
    return reply.code(status).send({ error: status < 500 ? (err as Error).message : 'internal error' });
  });
  return app;
}

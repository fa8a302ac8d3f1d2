/** buildServer(): the fastify app both sidecars serve. It never listens; the command does. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifySchemaCompiler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { healthPlugin, type ReadyCheck } from './health.js';
import { metricsPlugin } from './metrics.js';
import { handleClientError, handleError, handleFrameworkError, sendError } from './errors.js';
import { SERIALIZERS } from '../telemetry/logger.js';
import { ErrorSchema } from '../protocol/v1.js';
import { compileSchema } from '../util/json-schema.js';

/** A route's error answers: `{error, reason}` and nothing else (handleError, sendError). */
export const ERROR_RESPONSES = { '4xx': ErrorSchema, '5xx': ErrorSchema } as const;

/**
 * Routes' schemas checked by ajv (src/util/json-schema.ts), not by TypeBoxValidatorCompiler, which
 * would load TypeBox's compiler into every sidecar. Errors come in the same shape. Nothing is
 * converted: the sidecars validate only query, path and header parts, which are strings, and
 * TypeBox's conversion leaves a string (or a repeated parameter's list) as it is. A route that
 * declares a number there would need conversion here.
 */
const validatorCompiler: FastifySchemaCompiler<object> = ({ schema }) => {
  const compiled = compileSchema(schema);
  return (value) => (compiled.check(value) ? { value } : { error: compiled.errors(value) });
};

export interface ServerDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Liveness beyond the event loop: return a problem, or undefined when alive. */
  readonly liveness: () => string | undefined;
  readonly readiness: Readonly<Record<string, ReadyCheck>>;
  /** Serve HTTPS with these options (certificate, key, client CA); see tls.ts for reloading them. */
  readonly https?: HttpsServerOptions;
}

/**
 * A path that does not decode (`/v1/racks/%E0%A4%A`) makes the router answer 400 before any
 * route, so before authentication. Escaping its '%' lets it reach its route as text, where the
 * route's hooks (authentication first) and schema (a host name has no '%') see it.
 */
export function escapeUndecodablePath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (!path.includes('%')) return url;
  try {
    decodeURIComponent(path);
    return url;
  } catch {
    return path.replaceAll('%', '%25') + (query === -1 ? '' : url.slice(query));
  }
}

/**
 * Probes (/healthz, /readyz, /metrics, anything outside /v1) and long-polls (GET /v1/region with
 * `wait`) are logged at debug: a kubelet and a rack each ask every few seconds, and at info those
 * lines drown the ones that matter. Everything else under /v1 is logged at info.
 */
export function requestLogLevel(url: string): 'debug' | 'info' {
  if (!url.startsWith('/v1/')) return 'debug';
  return url.startsWith('/v1/region?') && /[?&]wait=/.test(url) ? 'debug' : 'info';
}

/**
 * One line per request, when it completes (method, path, status, time), at requestLogLevel():
 * fastify's default is two, "incoming request" and "request completed", both at info.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {
    // The completion line says it all.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const log = reply.log;
    if (error) {
      log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
      return;
    }
    log[requestLogLevel(request.url)]({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export function buildServer(deps: ServerDeps) {
  let closing = false;
  const app = Fastify({
    // node:https when TLS is on. Spread as `object`, so the instance keeps one type (http.Server's
    // API, which https.Server extends) whether or not TLS is on.
    ...(deps.https === undefined ? {} : ({ https: deps.https } as object)),
    // The request serializer logs the path and never the query string.
    loggerInstance: deps.logger.child({ component: 'http' }, { serializers: { ...SERIALIZERS } }) as FastifyBaseLogger,
    logController: new RequestLog(),
    // A child logger (bound to the request id, or at a route's own level) only where a line is
    // likely. Below debug a probe's or long-poll's lines are all dropped but errors, and a child
    // per probe (pino rebuilds every method of a child with its own level) costs more than
    // answering it; its rare error line still names the path.
    childLoggerFactory: (logger, bindings, options, raw) =>
      options.serializers === undefined && requestLogLevel(raw.url ?? '/') === 'debug' && !(logger as unknown as Logger).isLevelEnabled('debug')
        ? logger
        : logger.child(bindings, options),
    // Nothing the sidecars accept has a body worth more than this.
    bodyLimit: 16 * 1024,
    // No route has a regex parameter (what maxParamLength guards), and a parameter the router
    // refused would be refused before authentication. The HTTP parser caps a request line at
    // 16 KiB; routes bound what they accept (/v1 answers 414 past 2 KiB, after authentication).
    routerOptions: { maxParamLength: 64 * 1024 },
    rewriteUrl: (request) => escapeUndecodablePath(request.url ?? '/'),
    requestTimeout: 120_000,
    // fastify's own 503 while closing has its own body; the hook below answers in ours.
    return503OnClosing: false,
    forceCloseConnections: true,
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return undefined;
    reply.header('Connection', 'close');
    return sendError(reply, 503, 'shutting_down');
  });
  // An unknown route's body is never read: 404 before parsing (and, under /v1, after authentication).
  app.addHook('preParsing', async (request, reply) => (request.is404 ? sendError(reply, 404, 'unknown_route') : undefined));
  app.register(healthPlugin, { liveness: deps.liveness, readiness: deps.readiness });
  app.register(metricsPlugin, { registry: deps.registry });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'unknown_route'));
  app.setErrorHandler(handleError);
  return app;
}

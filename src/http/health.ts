/**
 * /healthz: alive? (event loop responsive via @fastify/under-pressure, plus the caller's liveness
 * check such as "reconcile loop not wedged"). Never depends on MAAS: restarting us won't fix MAAS.
 * /readyz: named checks; the body names failed checks, reasons go to the log only.
 */
import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';

/** Throws (with a reason for the log) when not ready. */
export type ReadyCheck = () => void | Promise<void>;

export interface HealthOptions {
  readonly liveness: () => string | undefined;
  readonly readiness: Readonly<Record<string, ReadyCheck>>;
}

export const healthPlugin = fp(
  async (app: FastifyInstance, options: HealthOptions) => {
    if (typeof options.liveness !== 'function') throw new TypeError('health: liveness must be a function');
    await app.register(underPressure, {
      maxEventLoopDelay: 2_000,
      exposeStatusRoute: { url: '/healthz', routeOpts: { logLevel: 'warn' } },
      healthCheck: async () => {
        const problem = options.liveness();
        if (problem) app.log.error({ problem }, 'liveness check failed');
        return problem === undefined;
      },
      healthCheckInterval: 2_000,
    });

    app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
      const failed: string[] = [];
      for (const [name, check] of Object.entries(options.readiness)) {
        try {
          await check();
        } catch (err) {
          failed.push(name);
          app.log.debug({ check: name, reason: (err as Error).message }, 'readiness check failed');
        }
      }
      return reply.code(failed.length === 0 ? 200 : 503).send(failed.length === 0 ? { status: 'ok' } : { status: 'not ready', failed });
    });
  },
  { name: 'maas-sidecar-health', fastify: '5.x' },
);

/** /metrics from the one injected Registry; quiet in the log. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export const metricsPlugin = fp(
  async (app: FastifyInstance, options: { registry: Registry }) => {
    if (!options.registry) throw new TypeError('metrics: a prom-client Registry is required');
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => reply.type(options.registry.contentType).send(await options.registry.metrics()));
  },
  { name: 'maas-sidecar-metrics', fastify: '5.x' },
);

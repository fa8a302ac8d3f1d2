/**
 * The region sidecar's /v1 API for racks (bearer-token protected): region URL + secret with
 * long-polling, what MAAS knows about a rack, "reconcile now", and status.
 */
import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ErrorSchema,
  HOSTNAME_PATTERN,
  MAX_WAIT_SECONDS,
  NotReadySchema,
  RackStatusSchema,
  ReconcileAcceptedSchema,
  RegionInfoSchema,
  type RackStatus,
} from '../protocol/v1.js';
import { bearerAuth } from '../http/bearer.js';
import type { Publication } from './publication.js';
import { withDeadline } from '../util/deadline.js';

/** A rack's status question is answered or refused within this, however slow MAAS is. */
const RACK_STATUS_TIMEOUT_MS = 10_000;

export interface RegionApiDeps {
  readonly token: string;
  readonly publication: Publication;
  /** Why the region is not ready for racks, or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
  /** What MAAS knows about a rack; undefined before bootstrap. */
  readonly rackStatus: (hostname: string, signal: AbortSignal) => Promise<RackStatus | undefined>;
  readonly requestReconcile: (reason: string) => void;
  readonly status: () => Record<string, unknown>;
  readonly onUnauthorized: () => void;
  /** Aborted when the server shuts down, to end long-polls at once. */
  readonly closing: AbortSignal;
}

const etagOf = (generation: string) => `"${generation}"`;
const WAIT_PATTERN = `^(?:[0-9]|[1-5][0-9]|${MAX_WAIT_SECONDS})$`;

export async function regionApi(root: FastifyInstance, deps: RegionApiDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('preHandler', bearerAuth(deps.token, deps.onUnauthorized));
  app.addHook('onSend', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
  });

  app.get(
    '/region',
    {
      schema: {
        // Whole seconds 0..60, as digits: no coercion games with "1.5" or "1e1".
        querystring: Type.Object({ wait: Type.Optional(Type.String({ pattern: WAIT_PATTERN })) }, { additionalProperties: false }),
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ maxLength: 100 })) }),
        response: { 200: RegionInfoSchema, 304: Type.Null(), 503: NotReadySchema },
      },
    },
    async (request, reply) => {
      const seen = request.headers['if-none-match'];
      const deadline = Date.now() + Number(request.query.wait ?? 0) * 1000;
      // Long-poll: answer as soon as there is something new (or newly ready) to tell, or at the deadline.
      for (;;) {
        const current = deps.publication.current;
        const fresh = current !== undefined && deps.notReadyReason() === undefined && etagOf(current.generation) !== seen;
        const remaining = deadline - Date.now();
        if (fresh || remaining <= 0 || deps.closing.aborted) break;
        await deps.publication.nextChange(remaining, deps.closing);
      }
      const current = deps.publication.current;
      const reason = deps.notReadyReason();
      if (!current || reason !== undefined) return reply.code(503).send({ ready: false, reason: reason ?? 'region secret not published yet' });
      reply.header('ETag', etagOf(current.generation));
      if (seen === etagOf(current.generation)) return reply.code(304).send(null);
      return { ready: true, url: current.url, secret: current.secret, generation: current.generation };
    },
  );

  app.get(
    '/racks/:hostname',
    {
      schema: {
        params: Type.Object({ hostname: Type.String({ pattern: HOSTNAME_PATTERN }) }),
        response: { 200: RackStatusSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const status = await withDeadline(RACK_STATUS_TIMEOUT_MS, undefined, (signal) => deps.rackStatus(request.params.hostname, signal));
      if (!status) return reply.code(503).send({ error: 'region not bootstrapped yet' });
      return status;
    },
  );

  app.post('/reconcile', { schema: { response: { 202: ReconcileAcceptedSchema } } }, async (_request, reply) => {
    deps.requestReconcile('requested over /v1/reconcile');
    return reply.code(202).send({ queued: true });
  });

  app.get('/status', async () => deps.status());
}

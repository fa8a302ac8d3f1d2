/**
 * The region sidecar's /v1 API for racks (bearer-token protected): region URL + secret with
 * long-polling, what MAAS knows about a rack, "reconcile now". /v1/status is the sidecar host's,
 * in the same context (src/sidecar/host.ts), so the token guards it too.
 *
 * Authentication is the context's first `onRequest` hook, so a request without the token is
 * answered 401 before its path, query, headers or body are looked at; every error is `{error, reason}`.
 */
import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  HOSTNAME_PATTERN,
  MAX_WAIT_SECONDS,
  NotReadySchema,
  RackStatusSchema,
  ReconcileAcceptedSchema,
  RegionInfoSchema,
  type RackStatus,
} from '../protocol/v1.js';
import { requireToken, type TokenSource } from '../http/bearer.js';
import { matchesCurrent, parseIfNoneMatch } from '../http/conditional.js';
import { sendError } from '../http/errors.js';
import { ERROR_RESPONSES } from '../http/server.js';
import { SharedRead } from './shared-read.js';
import type { MaasClient } from '../maas/client.js';
import type { RackController, Subnet } from '../maas/types.js';
import { HttpError, isTransient, MaasHttpError, MaasResponseError, MaasUnreachableError } from '../errors.js';
import { toObservedRack } from './network/observe.js';
import type { Publication } from './publication.js';
import { isDeadlineExpired, withDeadline } from '../util/deadline.js';

/** A rack's status question is answered or refused within this, however slow MAAS is. */
const RACK_STATUS_TIMEOUT_MS = 10_000;
/** How long one MAAS read answers every rack's question (racks poll every few seconds at most). */
const RACK_INVENTORY_CACHE_MS = 1_000;
/** Longest /v1 URL served; longer ones are answered 414 (after authentication). */
const MAX_URL_LENGTH = 2_048;

export interface RegionApiDeps {
  /** One token, or two while rotating (see bearerAuth). */
  readonly token: TokenSource;
  readonly publication: Publication;
  /** Why the region is not ready for racks, or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
  /**
   * What MAAS knows about a rack; undefined before bootstrap. It settles within its own deadline
   * (see rackLookup()); MAAS's own errors are answered 502/503 (see maasFault()).
   */
  readonly rackStatus: (hostname: string) => Promise<RackStatus | undefined>;
  readonly requestReconcile: (reason: string) => void;
  readonly onUnauthorized: () => void;
  /** Which token a request was admitted with (0: the first line of the token file, 1: the second). */
  readonly onAuthorized?: (index: number) => void;
  /** Aborted when the server shuts down, to end long-polls at once. */
  readonly closing: AbortSignal;
}

const etagOf = (generation: string) => `"${generation}"`;
const WAIT_PATTERN = `^(?:[0-9]|[1-5][0-9]|${MAX_WAIT_SECONDS})$`;

export async function regionApi(root: FastifyInstance, deps: RegionApiDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // First, before any parsing: a stranger learns nothing but 401.
  requireToken(app, deps.token, deps.onUnauthorized, deps.onAuthorized);
  app.addHook('onRequest', async (request, reply) => (request.url.length > MAX_URL_LENGTH ? sendError(reply, 414, 'uri_too_long') : undefined));
  app.addHook('onSend', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
  });

  // One listener ends every long-poll at shutdown: one per long-poll would pile up on the signal
  // (MaxListenersExceededWarning past ten racks) and stay until each poll ends.
  const wakeAll = (): void => deps.publication.wakeAll();
  deps.closing.addEventListener('abort', wakeAll, { once: true });
  app.addHook('onClose', async () => deps.closing.removeEventListener('abort', wakeAll));

  app.get(
    '/region',
    {
      schema: {
        // Whole seconds 0..60, as digits: no coercion games with "1.5" or "1e1".
        querystring: Type.Object({ wait: Type.Optional(Type.String({ pattern: WAIT_PATTERN })) }, { additionalProperties: false }),
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ maxLength: 256 })) }),
        response: { ...ERROR_RESPONSES, 200: RegionInfoSchema, 304: Type.Null(), 503: NotReadySchema },
      },
    },
    async (request, reply) => {
      const condition = parseIfNoneMatch(request.headers['if-none-match']);
      const deadline = Date.now() + Number(request.query.wait ?? 0) * 1000;
      // A client that hangs up ends its wait: else its request, reply and socket stay parked
      // until the deadline, and a thousand racks restarting would hold a thousand of each.
      const gone = new AbortController();
      const hungUp = (): void => gone.abort();
      reply.raw.once('close', hungUp);
      // Gone already (during authentication or validation): 'close' has fired and will not again.
      if (reply.raw.destroyed) gone.abort();
      // Long-poll: answer as soon as there is something the client does not have (or the region
      // becomes ready), or at the deadline. The check and the wait run in the same tick.
      try {
        for (;;) {
          const current = deps.publication.current;
          const fresh = current !== undefined && deps.notReadyReason() === undefined && !matchesCurrent(condition, current.generation);
          const remaining = deadline - Date.now();
          if (fresh || remaining <= 0 || deps.closing.aborted || gone.signal.aborted) break;
          await deps.publication.nextChange(remaining, gone.signal);
        }
      } finally {
        reply.raw.off('close', hungUp);
      }
      const current = deps.publication.current;
      const reason = deps.notReadyReason();
      if (!current || reason !== undefined) return reply.code(503).send({ ready: false, reason: reason ?? 'region secret not published yet' });
      reply.header('ETag', etagOf(current.generation));
      if (matchesCurrent(condition, current.generation)) return reply.code(304).send(null);
      return { ready: true, url: current.url, secret: current.secret, generation: current.generation };
    },
  );

  app.get(
    '/racks/:hostname',
    {
      schema: {
        params: Type.Object({ hostname: Type.String({ pattern: HOSTNAME_PATTERN }) }),
        response: { ...ERROR_RESPONSES, 200: RackStatusSchema },
      },
    },
    async (request, reply) => {
      let status: RackStatus | undefined;
      try {
        status = await deps.rackStatus(request.params.hostname);
      } catch (err) {
        throw maasFault(err);
      }
      if (!status) return sendError(reply, 503, 'not_bootstrapped');
      return status;
    },
  );

  app.post('/reconcile', { schema: { response: { ...ERROR_RESPONSES, 202: ReconcileAcceptedSchema } } }, async (_request, reply) => {
    deps.requestReconcile('requested over /v1/reconcile');
    return reply.code(202).send({ queued: true });
  });
}

const FAULT_MESSAGE = "MAAS could not tell a rack's status";

/**
 * A MAAS failure as the answer a rack gets: 503 when it is worth asking again (the same rule as
 * the client's retries: unreachable, 5xx, 429, too slow), 502 when MAAS answered in a way that
 * asking again will not mend. Anything else is a bug and stays a 500.
 */
function maasFault(err: unknown): unknown {
  const fault = (status: number, reason: string) => new HttpError(status, reason, FAULT_MESSAGE, (err as Error).message, { cause: err });
  if (err instanceof MaasUnreachableError) return fault(503, 'maas_unreachable');
  if (err instanceof MaasHttpError) return isTransient(err) ? fault(503, 'maas_unavailable') : fault(502, 'maas_error');
  if (err instanceof MaasResponseError) return fault(502, 'maas_bad_answer');
  if (isDeadlineExpired(err)) return fault(503, 'maas_timeout');
  return err;
}

/** What one MAAS read says about every rack. */
interface RackInventory {
  readonly racks: readonly RackController[];
  readonly subnets: readonly Subnet[];
}

/** One rack's status, from an inventory: its services and its DHCP role on each subnet it is on. */
function rackStatusOf(inventory: RackInventory, hostname: string): RackStatus {
  const found = inventory.racks.find((r) => r.hostname === hostname);
  if (!found) return { hostname, registered: false, systemId: null, rackd: 'unknown', dhcpd: 'unknown', subnets: [] };
  const rack = toObservedRack(found);
  return {
    hostname,
    registered: true,
    systemId: rack.systemId,
    rackd: rack.rackd,
    dhcpd: rack.dhcpd,
    subnets: inventory.subnets
      .filter((s) => rack.vlanIds.includes(s.vlan.id))
      .map((s) => ({
        cidr: s.cidr,
        vid: s.vlan.vid,
        dhcpOn: s.vlan.dhcp_on,
        gatewayIp: s.gateway_ip,
        role: dhcpRole(rack.systemId, s.vlan.primary_rack, s.vlan.secondary_rack),
      })),
  };
}

/** A rack's part in DHCP on a VLAN, from the VLAN's primary and secondary rack (system ids). */
export function dhcpRole(systemId: string, primary: string | null, secondary: string | null): 'primary' | 'secondary' | 'none' {
  return primary === systemId ? 'primary' : secondary === systemId ? 'secondary' : 'none';
}

export interface RackLookupOptions {
  /** Deadline of one MAAS read. */
  readonly timeoutMs?: number;
  /** How long a read (or its failure) answers later questions. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * `rackStatus` for regionApi, read from MAAS: every question asked while a read runs, or within
 * `cacheMs` after it, is answered from that one read (racks and subnets), whichever rack it is
 * about. A thousand racks asking at once cost MAAS two list calls, not two thousand.
 */
export function rackLookup(client: () => MaasClient | undefined, options: RackLookupOptions = {}): RegionApiDeps['rackStatus'] {
  const timeoutMs = options.timeoutMs ?? RACK_STATUS_TIMEOUT_MS;
  const inventory = new SharedRead<MaasClient, RackInventory>({
    ttlMs: options.cacheMs ?? RACK_INVENTORY_CACHE_MS,
    ...(options.now ? { now: options.now } : {}),
  });
  return async (hostname) => {
    const current = client();
    if (!current) return undefined;
    // The read is nobody's in particular: it has its own deadline, whoever asked first.
    const read = inventory.get(current, () =>
      withDeadline(timeoutMs, undefined, async (signal) => {
        const [racks, subnets] = await Promise.all([current.listRackControllers(signal), current.listSubnets(signal)]);
        return { racks, subnets };
      }),
    );
    return rackStatusOf(await read, hostname);
  };
}

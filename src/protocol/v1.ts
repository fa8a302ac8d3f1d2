/**
 * The /v1 API between the region sidecar and rack sidecars: the only module both import.
 * Schemas serve as fastify response schemas (so nothing undeclared is ever sent) and as the
 * rack's validator for what it receives.
 */
import Type, { type Static, type TLiteral, type TSchema, type TUnion } from 'typebox';
import { CONFLICT_KINDS, DHCP_ROLES, DRIFT_FIELDS, LOOP_STATUSES, SERVICE_STATES } from './labels.js';

/** A region secret: hex that decodes (an even number of digits), 8 to 512 bytes, lower case. */
export const HEX_SECRET = '^(?:[0-9a-f]{2}){8,512}$';

export const RegionInfoSchema = Type.Object({
  ready: Type.Boolean(),
  /** The region URL racks register with (`maas-rack register --url`). */
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  secret: Type.String({ pattern: HEX_SECRET }),
  /** Changes whenever url or secret changes; also sent as the ETag. */
  generation: Type.String({ pattern: '^[0-9a-f]{16}$' }),
});
export type RegionInfo = Static<typeof RegionInfoSchema>;

export const NotReadySchema = Type.Object({ ready: Type.Literal(false), reason: Type.String() });

/** A union of the list's values, typed as that union (a mapped array would type as never). */
function LiteralUnion<const T extends readonly string[]>(values: T): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((value) => Type.Literal(value))) as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

export const ServiceStateSchema = LiteralUnion(SERVICE_STATES);

export const RackDhcpRoleSchema = Type.Object({
  cidr: Type.String(),
  vid: Type.Integer(),
  dhcpOn: Type.Boolean(),
  gatewayIp: Type.Union([Type.String(), Type.Null()]),
  role: LiteralUnion(DHCP_ROLES),
});

export const RackStatusSchema = Type.Object({
  hostname: Type.String(),
  registered: Type.Boolean(),
  systemId: Type.Union([Type.String(), Type.Null()]),
  rackd: ServiceStateSchema,
  dhcpd: ServiceStateSchema,
  /** The subnets this rack has an interface on, with its DHCP role there. */
  subnets: Type.Array(RackDhcpRoleSchema),
});
export type RackStatus = Static<typeof RackStatusSchema>;

export const ReconcileAcceptedSchema = Type.Object({ queued: Type.Boolean() });

/**
 * Every error the sidecars' HTTP servers send: `error` is the status's phrase ("unauthorized",
 * "bad request", "service unavailable"), `reason` a short fixed code (`invalid_wait`,
 * `maas_unavailable`). Neither ever echoes the request or an internal message. A 401 is exactly
 * `{"error":"unauthorized"}`.
 */
export const ErrorSchema = Type.Object(
  { error: Type.String(), reason: Type.Optional(Type.String({ pattern: '^[a-z0-9_]+$' })) },
  { additionalProperties: false },
);

export const HOSTNAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$';

/** Longest long-poll a client may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 60;

// ---- GET /v1/status of either sidecar. Times are milliseconds since the epoch on the sidecar's
// clock; `now` is that clock when the answer was made, so a reader far away computes ages without
// trusting its own clock. Nothing secret is ever part of a status.

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One readiness check, as /readyz runs it; the reason is given here (authenticated), never on /readyz. */
export const CheckSchema = Type.Object({ name: Type.String(), ok: Type.Boolean(), problem: Type.Optional(Type.String()) });
export type Check = Static<typeof CheckSchema>;

export const LoopStateSchema = Type.Object({
  status: LiteralUnion(LOOP_STATUSES),
  passes: Type.Integer({ minimum: 0 }),
  consecutiveFailures: Type.Integer({ minimum: 0 }),
  lastSuccessAt: Type.Optional(Type.Number()),
  lastError: Type.Optional(Type.String()),
  runningSince: Type.Optional(Type.Number()),
});

/** The last pass that ended: how, when, how long; null before the first one ends. */
export const LastPassSchema = Nullable(
  Type.Object({ ok: Type.Boolean(), finishedAt: Type.Number(), seconds: Type.Number({ minimum: 0 }), error: Type.Optional(Type.String()) }),
);
export type LastPass = Static<typeof LastPassSchema>;

/** A change the region sidecar has still to make, in the words `maas-sidecar plan` uses. */
export const ChangeSchema = Type.Object({ kind: Type.String(), field: LiteralUnion(DRIFT_FIELDS), description: Type.String() });
export type Change = Static<typeof ChangeSchema>;

export const ConflictSchema = Type.Object({ kind: LiteralUnion(CONFLICT_KINDS), cidr: Type.Optional(Type.String()), message: Type.String() });

/** A rack as the region's last reconcile pass saw it in MAAS. */
export const RackSummarySchema = Type.Object({
  hostname: Type.String(),
  systemId: Type.String(),
  rackd: ServiceStateSchema,
  dhcpd: ServiceStateSchema,
  subnets: Type.Array(RackDhcpRoleSchema),
});
export type RackSummary = Static<typeof RackSummarySchema>;

export const RegionStatusSchema = Type.Object({
  kind: Type.Literal('region'),
  now: Type.Number(),
  ready: Type.Boolean(),
  checks: Type.Array(CheckSchema),
  regionReachable: Type.Boolean(),
  bootstrapped: Type.Boolean(),
  /** Whether a network declaration (NETWORK_CONFIG_FILE) is configured. */
  network: Type.Boolean(),
  generation: Nullable(Type.String()),
  /** When the current generation was published. */
  generationSince: Nullable(Type.Number()),
  /** The region URL published to racks. */
  publishedUrl: Nullable(Type.String()),
  loop: LoopStateSchema,
  lastPass: LastPassSchema,
  racks: Type.Array(RackSummarySchema),
  /** When `racks` was read from MAAS; null before the first pass read it. */
  racksObservedAt: Nullable(Type.Number()),
  /** What the latest plan has still to apply: empty once a pass converged. */
  pending: Type.Array(ChangeSchema),
  conflicts: Type.Array(ConflictSchema),
});
export type RegionStatus = Static<typeof RegionStatusSchema>;

export const RackSidecarStatusSchema = Type.Object({
  kind: Type.Literal('rack'),
  now: Type.Number(),
  ready: Type.Boolean(),
  checks: Type.Array(CheckSchema),
  hostname: Type.String(),
  regionReachable: Type.Boolean(),
  generation: Nullable(Type.String()),
  /** When this rack learned the current generation from the region sidecar. */
  generationSince: Nullable(Type.Number()),
  registered: Type.Boolean(),
  systemId: Nullable(Type.String()),
  rackd: ServiceStateSchema,
  dhcpd: ServiceStateSchema,
  subnets: Type.Array(RackDhcpRoleSchema),
  missingSubnets: Type.Array(Type.String()),
  dhcpProblem: Nullable(Type.String()),
  loop: LoopStateSchema,
  lastPass: LastPassSchema,
});
export type RackSidecarStatus = Static<typeof RackSidecarStatusSchema>;

/**
 * The /v1 API between the region sidecar and rack sidecars: the only module both import.
 * Schemas serve as fastify response schemas (so nothing undeclared is ever sent) and as the
 * rack's validator for what it receives.
 */
import Type, { type Static } from 'typebox';

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

export const ServiceStateSchema = Type.Union([
  Type.Literal('unknown'),
  Type.Literal('running'),
  Type.Literal('degraded'),
  Type.Literal('dead'),
  Type.Literal('off'),
]);

export const RackDhcpRoleSchema = Type.Object({
  cidr: Type.String(),
  vid: Type.Integer(),
  dhcpOn: Type.Boolean(),
  gatewayIp: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.Literal('primary'), Type.Literal('secondary'), Type.Literal('none')]),
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
export const ErrorSchema = Type.Object({ error: Type.String(), reason: Type.Optional(Type.String({ pattern: '^[a-z0-9_]+$' })) }, { additionalProperties: false });

export const HOSTNAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$';

/** Longest long-poll a client may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 60;

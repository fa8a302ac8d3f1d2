/**
 * The bounded vocabularies the sidecars share with whoever reads them: values of /v1 fields and of
 * metric labels. Each list is written here once and its type derived from it, so the planner, the
 * /v1 schemas and the pre-created metric series cannot drift apart. No imports: every layer
 * (maas, telemetry, protocol, region, rack) may take them from here.
 */

/** Service states MAAS reports (`SERVICE_STATUS`); the sidecars read anything else as 'unknown'. */
export const SERVICE_STATES = ['unknown', 'running', 'degraded', 'dead', 'off'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** A rack's DHCP role on a VLAN. */
export const DHCP_ROLES = ['primary', 'secondary', 'none'] as const;
export type DhcpRole = (typeof DHCP_ROLES)[number];

/** What a planned change corrects: every planned action names one (`/v1/status` `pending[].field`, the drift metric). */
export const DRIFT_FIELDS = ['gateway_ip', 'dns_servers', 'ip_range', 'dhcp_on', 'primary_rack', 'secondary_rack', 'setting', 'boot_resources'] as const;
export type DriftField = (typeof DRIFT_FIELDS)[number];

/** What the planner leaves for a person (`/v1/status` `conflicts[].kind`, the conflicts metric). */
export const CONFLICT_KINDS = ['subnet_missing', 'range_conflict', 'dhcp_blocked', 'no_healthy_rack'] as const;
export type ConflictKind = (typeof CONFLICT_KINDS)[number];

/** The reconcile loop's state (`/v1/status` `loop.status`). */
export const LOOP_STATUSES = ['idle', 'running', 'stopped'] as const;
export type LoopStatus = (typeof LOOP_STATUSES)[number];

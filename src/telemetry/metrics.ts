/**
 * Every metric, declared once. Names follow Prometheus conventions (base units, `_total` on
 * counters); labels are bounded: endpoint templates, status codes, declared CIDRs, fixed enums.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DriftField, ConflictKind } from '../region/network/plan.js';
import type { RequestEvent } from '../maas/client.js';

const DRIFT_FIELDS: readonly DriftField[] = ['gateway_ip', 'dns_servers', 'ip_range', 'dhcp_on', 'primary_rack', 'secondary_rack', 'setting', 'boot_resources'];
const CONFLICT_KINDS: readonly ConflictKind[] = ['subnet_missing', 'range_conflict', 'dhcp_blocked', 'no_healthy_rack'];
export const REJECT_REASONS = ['unauthorized', 'malformed_answer', 'tls'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * prom-client's default process metrics, minus three gauges it names `_total` (promtool flags a
 * non-counter with that suffix); their information is in nodejs_active_{handles,requests,resources}.
 */
const MISNAMED_DEFAULTS = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'maas_sidecar_' });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`maas_sidecar_nodejs_${name}`);
  return registry;
}

/** Records a reconcile pass's outcome (the loop's onPass) in the common metrics. */
export function recordPass(metrics: ReturnType<typeof commonMetrics>) {
  return ({ ok, seconds }: { ok: boolean; seconds: number }): void => {
    metrics.reconcileTotal.inc({ result: ok ? 'success' : 'failure' });
    metrics.reconcileDuration.observe(seconds);
    if (ok) metrics.lastSuccess.set(Date.now() / 1000);
  };
}

/**
 * Records what the declared network says of DHCP, one series per declared subnet and no other
 * (the label stays bounded); call it whenever the declaration is loaded. Subnets no longer declared
 * lose their series.
 */
export function recordDeclaredDhcp(metrics: Pick<RegionMetrics, 'dhcpDeclared'>, subnets: readonly { readonly cidr: string; readonly dhcp: boolean }[]): void {
  metrics.dhcpDeclared.reset();
  for (const subnet of subnets) metrics.dhcpDeclared.set({ cidr: subnet.cidr }, subnet.dhcp ? 1 : 0);
}

/** Metrics both sidecars have: reconcile passes, MAAS/HTTP rejects, loop state. */
function commonMetrics(registry: Registry) {
  const reconcileTotal = new Counter({ name: 'maas_sidecar_reconcile_total', help: 'Reconcile passes by result.', labelNames: ['result'] as const, registers: [registry] });
  for (const result of ['success', 'failure']) reconcileTotal.inc({ result }, 0);
  const rejected = new Counter({ name: 'maas_sidecar_rejected_total', help: 'Inputs from the network rejected as unauthorized or malformed, by reason.', labelNames: ['reason'] as const, registers: [registry] });
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  return {
    reconcileTotal,
    reconcileDuration: new Histogram({
      name: 'maas_sidecar_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    lastSuccess: new Gauge({ name: 'maas_sidecar_reconcile_last_success_timestamp_seconds', help: 'Unix time of the last successful reconcile pass.', registers: [registry] }),
    rejected,
  };
}

export type RegionMetrics = ReturnType<typeof createRegionMetrics>;

export interface RegionGaugeSources {
  /** Seconds since the published secret or URL last changed; undefined while unpublished. */
  readonly generationAgeSeconds: () => number | undefined;
}

export function createRegionMetrics(registry: Registry, sources: RegionGaugeSources) {
  const maasRequests = new Counter({ name: 'maas_sidecar_maas_requests_total', help: 'MAAS API requests by endpoint and HTTP status (0: no answer).', labelNames: ['endpoint', 'status'] as const, registers: [registry] });
  const maasLatency = new Histogram({
    name: 'maas_sidecar_maas_request_duration_seconds',
    help: 'MAAS API request latency by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const drift = new Counter({ name: 'maas_sidecar_drift_corrections_total', help: 'Changes applied to MAAS to correct drift, by field.', labelNames: ['field'] as const, registers: [registry] });
  for (const field of DRIFT_FIELDS) drift.inc({ field }, 0);
  const conflicts = new Gauge({ name: 'maas_sidecar_conflicts', help: 'Conflicts found by the last reconcile pass, by kind.', labelNames: ['kind'] as const, registers: [registry] });
  for (const kind of CONFLICT_KINDS) conflicts.set({ kind }, 0);
  const tokenAccepted = new Counter({ name: 'maas_sidecar_token_accepted_total', help: '/v1 requests admitted, by the line of SIDECAR_TOKEN_FILE their token is on (second: the other token while rotating).', labelNames: ['line'] as const, registers: [registry] });
  for (const line of ['first', 'second']) tokenAccepted.inc({ line }, 0);
  return {
    ...commonMetrics(registry),
    tokenAccepted,
    maasRequests,
    maasLatency,
    drift,
    conflicts,
    regionReady: new Gauge({ name: 'maas_sidecar_region_ready', help: '1 when the region answers, is bootstrapped and its secret is published.', registers: [registry] }),
    secretGenerationAge: new Gauge({
      name: 'maas_sidecar_secret_generation_age_seconds',
      help: 'Seconds since the published region URL or secret last changed.',
      registers: [registry],
      collect() {
        const age = sources.generationAgeSeconds();
        if (age === undefined) this.reset();
        else this.set(age);
      },
    }),
    racksKnown: new Gauge({ name: 'maas_sidecar_racks_known', help: 'Rack controllers MAAS knows.', registers: [registry] }),
    racksHealthy: new Gauge({ name: 'maas_sidecar_racks_healthy', help: 'Rack controllers whose rackd is running.', registers: [registry] }),
    dhcpEnabled: new Gauge({ name: 'maas_sidecar_dhcp_enabled', help: '1 when DHCP is on for the VLAN of a declared subnet.', labelNames: ['cidr'] as const, registers: [registry] }),
    /** Set from the declaration when it is loaded (recordDeclaredDhcp), so MaasDhcpOff can leave out subnets declared off. */
    dhcpDeclared: new Gauge({ name: 'maas_sidecar_dhcp_declared', help: '1 when the declared network turns DHCP on for a subnet, 0 when it declares it off.', labelNames: ['cidr'] as const, registers: [registry] }),
    /** Feed for MaasClient's onRequest. */
    observeRequest(event: RequestEvent): void {
      maasRequests.inc({ endpoint: event.endpoint, status: String(event.status) });
      maasLatency.observe({ endpoint: event.endpoint }, event.seconds);
    },
  };
}

export const REGISTRATION_RESULTS = ['success', 'failure', 'timeout'] as const;
const DHCPD_STATES = ['unknown', 'running', 'degraded', 'dead', 'off'] as const;

export type RackMetrics = ReturnType<typeof createRackMetrics>;

export interface RackGaugeSources {
  /** Seconds since this rack first saw the region's current generation. */
  readonly generationAgeSeconds: () => number | undefined;
  readonly dhcpdState: () => string | undefined;
}

export function createRackMetrics(registry: Registry, sources: RackGaugeSources) {
  const registrations = new Counter({ name: 'maas_sidecar_registrations_total', help: 'maas-rack register runs by result.', labelNames: ['result'] as const, registers: [registry] });
  for (const result of REGISTRATION_RESULTS) registrations.inc({ result }, 0);
  return {
    ...commonMetrics(registry),
    registrations,
    registrationDuration: new Histogram({
      name: 'maas_sidecar_registration_duration_seconds',
      help: 'Duration of maas-rack register runs.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    regionReachable: new Gauge({ name: 'maas_sidecar_region_reachable', help: '1 when the last request to the region sidecar got an answer.', registers: [registry] }),
    lastWatch: new Gauge({ name: 'maas_sidecar_last_watch_success_timestamp_seconds', help: 'Unix time of the last successful watch of the region sidecar.', registers: [registry] }),
    registered: new Gauge({ name: 'maas_sidecar_rack_registered', help: '1 when MAAS lists this rack with rackd running.', registers: [registry] }),
    generationAge: new Gauge({
      name: 'maas_sidecar_generation_age_seconds',
      help: 'Seconds since this rack first saw the current region generation.',
      registers: [registry],
      collect() {
        const age = sources.generationAgeSeconds();
        if (age === undefined) this.reset();
        else this.set(age);
      },
    }),
    dhcpdState: new Gauge({
      name: 'maas_sidecar_rack_dhcpd_state',
      help: 'dhcpd state of this rack as MAAS reports it (1 for the current state).',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const current = sources.dhcpdState();
        for (const state of DHCPD_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    }),
  };
}

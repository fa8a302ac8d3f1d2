/**
 * Every metric, declared once. Names follow Prometheus conventions (base units, `_total` on
 * counters); labels are bounded: endpoint templates, status codes, declared CIDRs, fixed enums.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CONFLICT_KINDS, DRIFT_FIELDS, SERVICE_STATES, type ServiceState } from '../protocol/labels.js';

const PASS_RESULTS = ['success', 'failure'] as const;
/** Why an input from the network was refused. */
const REJECT_REASONS = ['unauthorized', 'malformed_answer', 'tls'] as const;
/** Which line of SIDECAR_TOKEN_FILE a /v1 token matched (second: the other token while rotating). */
const TOKEN_LINES = ['first', 'second'] as const;
const REGISTRATION_RESULTS = ['success', 'failure', 'timeout'] as const;

/** One MAAS API request, as MaasClient's onRequest reports it. */
export interface MaasRequestSample {
  /** Bounded label: method, path template and op, e.g. `PUT fabrics/{fabric_id}/vlans/{vid}/`. */
  readonly endpoint: string;
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  readonly seconds: number;
}

/**
 * A counter with one label whose values are a declared list, each pre-created at 0 so dashboards
 * show 0 rather than a gap. prom-client takes any string as a label value; this `inc` takes only
 * the list's, so counting a value nobody declared (or pre-created) does not compile.
 */
interface ListCounter<Label extends string, Value extends string> extends Omit<Counter<Label>, 'inc'> {
  inc(labels: Readonly<Record<Label, Value>>, value?: number): void;
}

function listCounter<Label extends string, Value extends string>(
  registry: Registry,
  config: { readonly name: string; readonly help: string; readonly label: Label },
  values: readonly Value[],
): ListCounter<Label, Value> {
  const counter = new Counter({ name: config.name, help: config.help, labelNames: [config.label], registers: [registry] });
  for (const value of values) counter.inc({ [config.label]: value } as Record<Label, Value>, 0);
  return counter;
}

/**
 * prom-client's default process metrics, minus three gauges it names `_total` (promtool flags a
 * non-counter with that suffix); their information is in nodejs_active_{handles,requests,resources}.
 */
const MISNAMED_DEFAULTS = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

export function newRegistry(): Registry {
  const registry = new Registry();
  // Lag sampled every 100 ms, not prom-client's 10 ms: a 10 ms native timer costs 0.6% of a core
  // in an idle sidecar (BENCHMARKS.md); the p99 of stalls that matter is as visible.
  collectDefaultMetrics({ register: registry, prefix: 'maas_sidecar_', eventLoopMonitoringPrecision: 100 });
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
  const reconcileTotal = listCounter(registry, { name: 'maas_sidecar_reconcile_total', help: 'Reconcile passes by result.', label: 'result' }, PASS_RESULTS);
  const rejected = listCounter(
    registry,
    { name: 'maas_sidecar_rejected_total', help: 'Inputs from the network rejected as unauthorized or malformed, by reason.', label: 'reason' },
    REJECT_REASONS,
  );
  return {
    reconcileTotal,
    reconcileDuration: new Histogram({
      name: 'maas_sidecar_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'maas_sidecar_reconcile_last_success_timestamp_seconds',
      help: 'Unix time of the last successful reconcile pass.',
      registers: [registry],
    }),
    rejected,
    /** Set by recordCertificateExpiry (http/tls.ts) whenever the files are loaded; no series without TLS. */
    tlsCertificateExpiry: new Gauge({
      name: 'maas_sidecar_tls_certificate_expiry_timestamp_seconds',
      help: 'Unix time the TLS certificate this sidecar presents ends (notAfter), by usage: server (the region sidecar serving https), client (a rack sidecar for mutual TLS).',
      labelNames: ['usage'] as const,
      registers: [registry],
    }),
  };
}

export type RegionMetrics = ReturnType<typeof createRegionMetrics>;

export interface RegionGaugeSources {
  /** Seconds since the published secret or URL last changed; undefined while unpublished. */
  readonly generationAgeSeconds: () => number | undefined;
}

export function createRegionMetrics(registry: Registry, sources: RegionGaugeSources) {
  const maasRequests = new Counter({
    name: 'maas_sidecar_maas_requests_total',
    help: 'MAAS API requests by endpoint and HTTP status (0: no answer).',
    labelNames: ['endpoint', 'status'] as const,
    registers: [registry],
  });
  const maasLatency = new Histogram({
    name: 'maas_sidecar_maas_request_duration_seconds',
    help: 'MAAS API request latency by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const drift = listCounter(
    registry,
    { name: 'maas_sidecar_drift_corrections_total', help: 'Changes applied to MAAS to correct drift, by field.', label: 'field' },
    DRIFT_FIELDS,
  );
  const conflicts = new Gauge({
    name: 'maas_sidecar_conflicts',
    help: 'Conflicts found by the last reconcile pass, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const kind of CONFLICT_KINDS) conflicts.set({ kind }, 0);
  const tokenAccepted = listCounter(
    registry,
    {
      name: 'maas_sidecar_token_accepted_total',
      help: '/v1 requests admitted, by the line of SIDECAR_TOKEN_FILE their token is on (second: the other token while rotating).',
      label: 'line',
    },
    TOKEN_LINES,
  );
  return {
    ...commonMetrics(registry),
    tokenAccepted,
    maasRequests,
    maasLatency,
    drift,
    conflicts,
    regionReady: new Gauge({
      name: 'maas_sidecar_region_ready',
      help: '1 when the region answers, is bootstrapped and its secret is published.',
      registers: [registry],
    }),
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
    dhcpEnabled: new Gauge({
      name: 'maas_sidecar_dhcp_enabled',
      help: '1 when DHCP is on for the VLAN of a declared subnet.',
      labelNames: ['cidr'] as const,
      registers: [registry],
    }),
    /** Set from the declaration when it is loaded (recordDeclaredDhcp), so MaasDhcpOff can leave out subnets declared off. */
    dhcpDeclared: new Gauge({
      name: 'maas_sidecar_dhcp_declared',
      help: '1 when the declared network turns DHCP on for a subnet, 0 when it declares it off.',
      labelNames: ['cidr'] as const,
      registers: [registry],
    }),
    /** Feed for MaasClient's onRequest. */
    observeRequest(event: MaasRequestSample): void {
      maasRequests.inc({ endpoint: event.endpoint, status: String(event.status) });
      maasLatency.observe({ endpoint: event.endpoint }, event.seconds);
    },
  };
}

export type RackMetrics = ReturnType<typeof createRackMetrics>;

export interface RackGaugeSources {
  /** Seconds since this rack first saw the region's current generation. */
  readonly generationAgeSeconds: () => number | undefined;
  readonly dhcpdState: () => ServiceState | undefined;
}

export function createRackMetrics(registry: Registry, sources: RackGaugeSources) {
  const registrations = listCounter(
    registry,
    { name: 'maas_sidecar_registrations_total', help: 'maas-rack register runs by result.', label: 'result' },
    REGISTRATION_RESULTS,
  );
  return {
    ...commonMetrics(registry),
    registrations,
    registrationDuration: new Histogram({
      name: 'maas_sidecar_registration_duration_seconds',
      help: 'Duration of maas-rack register runs.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    regionReachable: new Gauge({
      name: 'maas_sidecar_region_reachable',
      help: '1 when the last request to the region sidecar got an answer.',
      registers: [registry],
    }),
    lastWatch: new Gauge({
      name: 'maas_sidecar_last_watch_success_timestamp_seconds',
      help: 'Unix time of the last successful watch of the region sidecar.',
      registers: [registry],
    }),
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
        for (const state of SERVICE_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    }),
  };
}

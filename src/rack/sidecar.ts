/**
 * The rack sidecar: watches the region sidecar (long-poll), registers this rack only when needed
 * (single flight, retried with backoff), confirms through the region that MAAS lists it with rackd
 * running, and reports its DHCP/gateway view; on the sidecar host (src/sidecar/host.ts), which
 * serves, schedules the passes and stops in order.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RackConfig } from '../config/rack.js';
import { RackSidecarStatusSchema, type RackSidecarStatus, type RackStatus, type RegionInfo } from '../protocol/v1.js';
import { EVENTS } from '../protocol/events.js';
import { createRunner, type Runner } from '../exec/runner.js';
import { SidecarHost, type HostStatusField } from '../sidecar/host.js';
import { createRackMetrics, type RackMetrics } from '../telemetry/metrics.js';
import { ExecError, MalformedAnswerError, NotConvergedError, RegionTlsError } from '../errors.js';
import { sleep } from '../util/backoff.js';
import { retry } from '../util/retry.js';
import { RegionClient } from './region-client.js';
import { plainTransport, tlsTransport, type HttpTransport } from '../http/tls-client.js';
import { recordCertificateExpiry, type CertificateSummary } from '../http/tls.js';
import { readTokenFile, type TokenLines } from '../config/env.js';
import { requireToken } from '../http/bearer.js';
import { readLocalRegistration } from './local-registration.js';
import { decide, isUnhealthy } from './decide.js';

/**
 * After a failed watch the region is unreachable, and the rack asks again without long-polling
 * (`wait=0`) at most this far apart: a region sidecar that comes back is noticed within about a
 * second, not after a long-poll holding the current ETag runs out (WATCH_WAIT_SECONDS).
 */
const PROBE_BACKOFF = { initialMs: 100, maxMs: 1_000 };
const CONFIRM_POLL_MS = 250;

export class RackSidecar {
  readonly metrics: RackMetrics;
  readonly #host: SidecarHost<RackSidecarStatus>;
  #region: RegionInfo | undefined;
  #regionSeenAt: number | undefined;
  #regionReachable = false;
  #status: RackStatus | undefined;
  #unhealthySince: number | undefined;
  #confirmed = false;
  readonly #client: RegionClient;
  readonly #transport: HttpTransport;
  /** The token file's lines: the first is sent to the region; either opens this rack's /v1/status. */
  #tokens: TokenLines;
  readonly #runner: Runner;
  readonly #now: () => number;

  constructor(
    private readonly config: RackConfig,
    private readonly logger: Logger,
    registry: Registry,
    now: () => number = Date.now,
  ) {
    this.#now = now;
    this.#tokens = config.tokens;
    this.metrics = createRackMetrics(registry, {
      generationAgeSeconds: () => (this.#regionSeenAt === undefined ? undefined : (this.#now() - this.#regionSeenAt) / 1000),
      dhcpdState: () => this.#status?.dhcpd,
    });
    const onClientCertificate = (leaf: CertificateSummary) => recordCertificateExpiry(this.metrics.tlsCertificateExpiry, 'client', leaf);
    this.#transport = config.tls ? tlsTransport(config.tls, logger.child({ component: 'tls' }), { onClientCertificate }) : plainTransport;
    this.#client = new RegionClient({
      baseUrl: config.regionSidecarUrl,
      token: () => this.#tokens[0],
      timeoutMs: config.regionTimeoutMs,
      transport: this.#transport,
    });
    this.#runner = createRunner({ mode: config.runner, timeoutMs: config.commandTimeoutMs, logger });
    this.#host = new SidecarHost<RackSidecarStatus>({
      kind: 'rack',
      logger,
      registry,
      metrics: this.metrics,
      listen: config.listen,
      schedule: config.schedule,
      loop: {
        pass: (signal) => this.#pass(signal),
        timeoutMs: config.commandTimeoutMs + config.confirmTimeoutMs + 30_000,
        // A half-run maas-rack must not outlive the sidecar: stopping aborts it (and its process group).
        abortOnStop: true,
      },
      checks: {
        region: () => (this.#regionReachable ? undefined : 'region sidecar not reachable'),
        registered: () => (this.#confirmed ? undefined : 'rack not confirmed registered by MAAS'),
        dhcp: () => this.#dhcpProblem(),
        subnets: () => {
          const missing = this.#missingSubnets();
          return missing.length > 0 ? `no interface on ${missing.join(', ')}` : undefined;
        },
      },
      status: { schema: RackSidecarStatusSchema, fields: () => this.#statusFields() },
      // Racks serve on the node's network: /v1/status (host name, MAAS system id, subnets) asks
      // for the same token the rack sends the region, as the region's does, and so does any
      // other /v1 path (a stranger learns nothing but 401). Probes and /metrics stay open.
      v1: async (app) =>
        requireToken(
          app,
          () => this.#tokens,
          () => this.metrics.rejected.inc({ reason: 'unauthorized' }),
        ),
      files: (log) => this.#files(log),
      run: async (signal) => {
        this.#host.startLoop();
        await this.#watch(signal);
      },
      close: () => this.#transport.close(),
      now,
    });
  }

  start(): Promise<string> {
    return this.#host.start();
  }

  stop(): Promise<void> {
    return this.#host.stop();
  }

  /**
   * The token file and the TLS files are re-read when they change (a Secret updated in place, a
   * certificate cert-manager renewed): the next request uses them, the one in flight finishes.
   */
  #files(log: Logger) {
    const token = {
      paths: [this.config.tokenFile],
      what: 'sidecar token',
      reload: async () => {
        const tokens = await readTokenFile('SIDECAR_TOKEN_FILE', this.config.tokenFile);
        if (tokens.join('\n') === this.#tokens.join('\n')) return;
        this.#tokens = tokens;
        log.info({ event: EVENTS.tokenReloaded }, 'sidecar token re-read: the first line is sent from now on');
      },
    };
    const tls = this.config.tls;
    if (!tls) return [token];
    const paths = [tls.ca.path, ...(tls.client ? [tls.client.cert.path, tls.client.key.path] : [])];
    return [token, { paths, what: 'TLS files', reload: () => this.#transport.reload() }];
  }

  /** The rack's part of GET /v1/status (the host adds readiness and the loop). Never a secret. */
  #statusFields(): Omit<RackSidecarStatus, HostStatusField> {
    return {
      hostname: this.config.hostname,
      regionReachable: this.#regionReachable,
      generation: this.#region?.generation ?? null,
      generationSince: this.#region === undefined ? null : (this.#regionSeenAt ?? null),
      registered: this.#confirmed,
      systemId: this.#status?.systemId ?? null,
      rackd: this.#status?.rackd ?? 'unknown',
      dhcpd: this.#status?.dhcpd ?? 'unknown',
      subnets: [...(this.#status?.subnets ?? [])],
      missingSubnets: this.#missingSubnets(),
      dhcpProblem: this.#dhcpProblem() ?? null,
    };
  }

  /**
   * Long-polls the region sidecar for ever; errors keep the last known good state. While the
   * region is unreachable each request is a short probe (`wait=0`, answered at once) on a backoff
   * capped at a second, so recovery never waits for a long-poll to end.
   */
  async #watch(signal: AbortSignal): Promise<void> {
    const log = this.logger.child({ component: 'watch' });
    let lastNotReady: string | undefined;
    let lastFailure: string | undefined;
    try {
      while (!signal.aborted) {
        let failures = 0;
        let waitSeconds = 0;
        const result = await retry(
          () => {
            waitSeconds = this.#regionReachable ? this.config.watchWaitSeconds : 0;
            return this.#client.watch(this.#region?.generation, waitSeconds, signal);
          },
          {
            backoff: PROBE_BACKOFF,
            onRetry: ({ attempt, retryInMs, err }) => {
              failures = attempt;
              this.#setReachable(false);
              if (err instanceof MalformedAnswerError) this.metrics.rejected.inc({ reason: 'malformed_answer' });
              if (err instanceof RegionTlsError && err.refused) this.metrics.rejected.inc({ reason: 'tls' });
              const reason = (err as Error).message;
              // Probing every second: say so once per kind of failure, not once a second.
              const level = reason === lastFailure ? 'debug' : 'warn';
              lastFailure = reason;
              log[level]({ reason, code: (err as { code?: string }).code, failures, retryInMs }, 'watching the region failed');
            },
          },
          signal,
        );
        if (failures > 0) log.info({ failures }, 'region sidecar answers again');
        lastFailure = undefined;
        this.#setReachable(true);
        this.metrics.lastWatch.set(this.#now() / 1000);
        if (result.kind === 'changed' && result.info.generation !== this.#region?.generation) {
          this.#region = result.info;
          this.#regionSeenAt = this.#now();
          lastNotReady = undefined;
          log.info({ event: EVENTS.secretFetched, generation: result.info.generation, url: result.info.url }, 'region generation changed');
          this.#host.loop.trigger('region changed', { urgent: true });
        } else if (result.kind === 'notReady') {
          if (lastNotReady !== result.reason) log.info({ reason: result.reason }, 'region not ready');
          lastNotReady = result.reason;
          // A short probe's "not ready" is followed at once by a long-poll, which the region ends
          // the moment it is ready; only a long-poll's "not ready" (its wait ran out, or a region
          // that does not wait) waits a second before asking again.
          if (waitSeconds > 0) await sleep(1_000, signal);
        }
      }
    } catch (err) {
      // Watching ends only when the sidecar stops: every other failure is retried above.
      if (!signal.aborted) throw err;
    }
  }

  #setReachable(reachable: boolean): void {
    this.#regionReachable = reachable;
    this.metrics.regionReachable.set(reachable ? 1 : 0);
  }

  /**
   * One level-based pass: read disk and MAAS's view, decide, maybe register and confirm. The
   * confirmation waits inside the pass, not as requeued passes: those would count as reconcile
   * successes (maas_sidecar_reconcile_total, the last-success time), and an unconfirmed rack
   * would never fire MaasReconcileFailing.
   */
  async #pass(signal: AbortSignal): Promise<void> {
    const region = this.#region;
    if (!region) return;
    const local = await readLocalRegistration(this.config.rackdConf, this.config.secretFile);
    const status = await this.#fetchStatus(signal);
    const decision = decide({ region, local, status, unhealthySince: this.#unhealthySince, now: this.#now(), graceMs: this.config.graceMs });
    if (!decision.register) {
      if (status && !isUnhealthy(status)) this.#setConfirmed(true);
      return;
    }
    this.logger.info({ event: EVENTS.rackRegistering, reason: decision.reason, generation: region.generation }, 'registering the rack');
    this.#setConfirmed(false);
    await this.#register(region, signal);
    // The grace clock restarts: MAAS needs a moment to see the new rackd.
    this.#unhealthySince = this.#now();
    await this.#client
      .requestReconcile(signal)
      .catch((err: unknown) => this.logger.warn({ reason: (err as Error).message }, 'could not ask the region for a reconcile'));
    await this.#confirm(region.generation, signal);
  }

  async #fetchStatus(signal: AbortSignal): Promise<RackStatus | undefined> {
    try {
      const status = await this.#client.rackStatus(this.config.hostname, signal);
      this.#status = status;
      if (isUnhealthy(status)) this.#unhealthySince ??= this.#now();
      else this.#unhealthySince = undefined;
      return status;
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof MalformedAnswerError) this.metrics.rejected.inc({ reason: 'malformed_answer' });
      this.logger.warn({ reason: (err as Error).message }, "could not read this rack's status from the region");
      return undefined;
    }
  }

  async #register(region: RegionInfo, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    try {
      const result = await this.#runner({
        command: this.config.rackCommand,
        args: ['register', '--url', region.url, '--secret', region.secret],
        secrets: [region.secret],
        signal,
      });
      if (result.exitCode !== 0) {
        throw new ExecError(
          `${this.config.rackCommand} register failed (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 500) || result.stdout.trim().slice(0, 500)}`,
          result.exitCode,
          false,
        );
      }
      this.metrics.registrations.inc({ result: 'success' });
      this.logger.info({ event: EVENTS.rackRegistered, seconds: (performance.now() - started) / 1000 }, 'rack registered');
    } catch (err) {
      this.metrics.registrations.inc({ result: err instanceof ExecError && err.timedOut ? 'timeout' : 'failure' });
      throw err;
    } finally {
      this.metrics.registrationDuration.observe((performance.now() - started) / 1000);
    }
  }

  /**
   * Waits, through the region, until MAAS lists this rack with rackd running. Newer region
   * information ends the wait: the pass it triggers decides afresh.
   */
  async #confirm(generation: string, signal: AbortSignal): Promise<void> {
    const deadline = this.#now() + this.config.confirmTimeoutMs;
    while (this.#now() < deadline) {
      if (this.#region?.generation !== generation) return;
      const status = await this.#fetchStatus(signal);
      if (status && !isUnhealthy(status)) {
        this.#setConfirmed(true);
        this.logger.info({ event: EVENTS.rackConfirmed, systemId: status.systemId }, 'MAAS lists the rack with rackd running');
        return;
      }
      await sleep(CONFIRM_POLL_MS, signal);
    }
    throw new NotConvergedError(`MAAS did not list ${this.config.hostname} with rackd running within ${this.config.confirmTimeoutMs} ms of registering`);
  }

  #setConfirmed(confirmed: boolean): void {
    this.#confirmed = confirmed;
    this.metrics.registered.set(confirmed ? 1 : 0);
  }

  /** Where this rack is a VLAN's primary or secondary and DHCP is on, dhcpd must run. */
  #dhcpProblem(): string | undefined {
    const status = this.#status;
    if (!status) return undefined;
    const serving = status.subnets.filter((s) => s.dhcpOn && s.role !== 'none');
    if (serving.length > 0 && status.dhcpd !== 'running') return `dhcpd is ${status.dhcpd} while serving ${serving.map((s) => s.cidr).join(', ')}`;
    return undefined;
  }

  #missingSubnets(): string[] {
    const have = new Set(this.#status?.subnets.map((s) => s.cidr) ?? []);
    return this.config.provisioningCidrs.filter((cidr) => !have.has(cidr));
  }
}

/**
 * The rack sidecar: watches the region sidecar (long-poll), registers this rack only when needed
 * (single flight, retried with backoff), confirms through the region that MAAS lists it with rackd
 * running, and reports its DHCP/gateway view.
 */
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RackConfig } from '../config/rack.js';
import { RackSidecarStatusSchema, type LastPass, type RackSidecarStatus, type RackStatus, type RegionInfo } from '../protocol/v1.js';
import { createRunner, type Runner } from '../exec/runner.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import { buildServer } from '../http/server.js';
import { checkResults, readyChecks, type ProblemCheck } from '../http/health.js';
import { createRackMetrics, recordPass, type RackMetrics } from '../telemetry/metrics.js';
import { ExecError, NotConvergedError } from '../errors.js';
import { backoffDelay, sleep } from '../util/backoff.js';
import { MalformedAnswerError, RegionClient, RegionTlsError } from './region-client.js';
import { plainTransport, tlsTransport, type HttpTransport } from '../http/tls-client.js';
import { FileWatch } from '../http/tls.js';
import { readTokenFile } from '../config/env.js';
import { readLocalRegistration } from './local-registration.js';
import { decide, isUnhealthy } from './decide.js';

/**
 * After a failed watch the region is unreachable, and the rack asks again without long-polling
 * (`wait=0`) at most this far apart: a region sidecar that comes back is noticed within about a
 * second, not after a long-poll holding the current ETag runs out (WATCH_WAIT_SECONDS).
 */
const PROBE_BACKOFF = { initialMs: 250, maxMs: 1_000 };
const CONFIRM_POLL_MS = 250;

export class RackSidecar {
  readonly metrics: RackMetrics;
  readonly loop: ReconcileLoop;
  readonly app;
  #region: RegionInfo | undefined;
  #regionSeenAt: number | undefined;
  #regionReachable = false;
  #status: RackStatus | undefined;
  #unhealthySince: number | undefined;
  #confirmed = false;
  #lastPass: LastPass = null;
  #watching: Promise<void> | undefined;
  #cronTask: ReturnType<typeof cron.schedule> | undefined;
  readonly #stopping = new AbortController();
  readonly #client: RegionClient;
  readonly #transport: HttpTransport;
  readonly #fileWatches: FileWatch[] = [];
  #token: string;
  readonly #runner: Runner;
  readonly #now: () => number;
  /** What /readyz checks, one by one; /v1/status shows the same with reasons. */
  readonly #checks: Readonly<Record<string, ProblemCheck>> = {
    region: () => (this.#regionReachable ? undefined : 'region sidecar not reachable'),
    registered: () => (this.#confirmed ? undefined : 'rack not confirmed registered by MAAS'),
    dhcp: () => this.#dhcpProblem(),
    subnets: () => {
      const missing = this.#missingSubnets();
      return missing.length > 0 ? `no interface on ${missing.join(', ')}` : undefined;
    },
  };

  constructor(
    private readonly config: RackConfig,
    private readonly logger: Logger,
    registry: Registry,
    now: () => number = Date.now,
  ) {
    this.#now = now;
    this.#token = config.token;
    this.#transport = config.tls ? tlsTransport(config.tls, logger.child({ component: 'tls' })) : plainTransport;
    this.#client = new RegionClient({ baseUrl: config.regionSidecarUrl, token: () => this.#token, timeoutMs: config.regionTimeoutMs, transport: this.#transport });
    this.#runner = createRunner({ mode: config.runner, timeoutMs: config.commandTimeoutMs, logger });
    this.metrics = createRackMetrics(registry, {
      generationAgeSeconds: () => (this.#regionSeenAt === undefined ? undefined : (this.#now() - this.#regionSeenAt) / 1000),
      dhcpdState: () => this.#status?.dhcpd,
    });
    const record = recordPass(this.metrics);
    this.loop = new ReconcileLoop({
      name: 'rack',
      pass: (signal) => this.#pass(signal),
      timeoutMs: config.commandTimeoutMs + config.confirmTimeoutMs + 30_000,
      backoff: { initialMs: 500, maxMs: 30_000 },
      logger,
      // A half-run maas-rack must not outlive the sidecar: stopping aborts it (and its process group).
      abortOnStop: true,
      onPass: (outcome) => {
        record(outcome);
        const error = outcome.ok ? {} : { error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) };
        this.#lastPass = { ok: outcome.ok, finishedAt: this.#now(), seconds: outcome.seconds, ...error };
      },
    });
    this.app = buildServer({
      logger,
      registry,
      liveness: () => (this.loop.isWedged(30_000) ? 'rack loop wedged' : undefined),
      readiness: readyChecks(this.#checks),
    });
    // Open, like /metrics: it holds nothing secret (no region URL, no secret, no token).
    this.app.get('/v1/status', { schema: { response: { 200: RackSidecarStatusSchema } } }, async () => this.status());
  }

  async start(): Promise<string> {
    const address = await this.app.listen({ host: this.config.listen.host, port: this.config.listen.port });
    await this.#watchFiles();
    this.loop.start();
    this.#watching = this.#watch();
    this.#cronTask = cron.schedule(this.config.schedule, () => this.loop.trigger('schedule'));
    return address;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#cronTask?.stop();
    await this.#watching;
    await this.loop.stop();
    for (const watch of this.#fileWatches) watch.stop();
    await this.#transport.close();
    await this.app.close();
  }

  /**
   * The token file and the TLS files are re-read when they change (a Secret updated in place, a
   * certificate cert-manager renewed): the next request uses them, the one in flight finishes.
   */
  async #watchFiles(): Promise<void> {
    const log = this.logger.child({ component: 'files' });
    this.#fileWatches.push(
      new FileWatch({
        paths: [this.config.tokenFile],
        what: 'sidecar token',
        logger: log,
        reload: async () => {
          const [first] = await readTokenFile('SIDECAR_TOKEN_FILE', this.config.tokenFile);
          if (first === this.#token) return;
          this.#token = first;
          log.info({ event: 'token.reloaded' }, 'sidecar token re-read: the first line is sent from now on');
        },
      }),
    );
    const tls = this.config.tls;
    if (tls) {
      const paths = [tls.ca.path, ...(tls.client ? [tls.client.cert.path, tls.client.key.path] : [])];
      this.#fileWatches.push(new FileWatch({ paths, what: 'TLS files', logger: log, reload: () => this.#transport.reload() }));
    }
    for (const watch of this.#fileWatches) await watch.start();
  }

  /** What this rack knows, without secrets (GET /v1/status). */
  status(): RackSidecarStatus {
    const { lastError, ...loop } = this.loop.state;
    const checks = checkResults(this.#checks);
    return {
      kind: 'rack',
      now: this.#now(),
      ready: checks.every((c) => c.ok),
      checks,
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
      loop: { ...loop, ...(lastError === undefined ? {} : { lastError }) },
      lastPass: this.#lastPass,
    };
  }

  /**
   * Long-polls the region sidecar for ever; errors keep the last known good state. While the
   * region is unreachable each request is a short probe (`wait=0`, answered at once) on a backoff
   * capped at a second, so recovery never waits for a long-poll to end.
   */
  async #watch(): Promise<void> {
    const signal = this.#stopping.signal;
    const log = this.logger.child({ component: 'watch' });
    let failures = 0;
    let lastNotReady: string | undefined;
    let lastFailure: string | undefined;
    while (!signal.aborted) {
      try {
        const wait = this.#regionReachable ? this.config.watchWaitSeconds : 0;
        const result = await this.#client.watch(this.#region?.generation, wait, signal);
        if (failures > 0) log.info({ failures }, 'region sidecar answers again');
        failures = 0;
        lastFailure = undefined;
        this.#setReachable(true);
        this.metrics.lastWatch.set(this.#now() / 1000);
        if (result.kind === 'changed' && result.info.generation !== this.#region?.generation) {
          this.#region = result.info;
          this.#regionSeenAt = this.#now();
          lastNotReady = undefined;
          log.info({ event: 'secret.fetched', generation: result.info.generation, url: result.info.url }, 'region generation changed');
          this.loop.trigger('region changed', { urgent: true });
        } else if (result.kind === 'notReady') {
          if (lastNotReady !== result.reason) log.info({ reason: result.reason }, 'region not ready');
          lastNotReady = result.reason;
          await sleep(1_000, signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.#setReachable(false);
        if (err instanceof MalformedAnswerError) this.metrics.rejected.inc({ reason: 'malformed_answer' });
        if (err instanceof RegionTlsError && err.refused) this.metrics.rejected.inc({ reason: 'tls' });
        const delay = backoffDelay(failures - 1, PROBE_BACKOFF);
        const reason = (err as Error).message;
        // Probing every second: say so once per kind of failure, not once a second.
        const level = reason === lastFailure ? 'debug' : 'warn';
        lastFailure = reason;
        log[level]({ reason, code: (err as { code?: string }).code, failures, retryInMs: delay }, 'watching the region failed');
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  #setReachable(reachable: boolean): void {
    this.#regionReachable = reachable;
    this.metrics.regionReachable.set(reachable ? 1 : 0);
  }

  /** One level-based pass: read disk and MAAS's view, decide, maybe register and confirm. */
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
    this.logger.info({ event: 'rack.registering', reason: decision.reason, generation: region.generation }, 'registering the rack');
    this.#setConfirmed(false);
    await this.#register(region, signal);
    // The grace clock restarts: MAAS needs a moment to see the new rackd.
    this.#unhealthySince = this.#now();
    await this.#client.requestReconcile(signal).catch((err: unknown) => this.logger.warn({ reason: (err as Error).message }, 'could not ask the region for a reconcile'));
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
      this.logger.warn({ reason: (err as Error).message }, 'could not read this rack\'s status from the region');
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
        throw new ExecError(`${this.config.rackCommand} register failed (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 500) || result.stdout.trim().slice(0, 500)}`, result.exitCode, false);
      }
      this.metrics.registrations.inc({ result: 'success' });
      this.logger.info({ event: 'rack.registered', seconds: (performance.now() - started) / 1000 }, 'rack registered');
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
        this.logger.info({ event: 'rack.confirmed', systemId: status.systemId }, 'MAAS lists the rack with rackd running');
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

/**
 * The region sidecar: bootstrap, secret publishing, the network pass and the /v1 API for racks,
 * on the sidecar host (src/sidecar/host.ts), which serves, schedules the passes and stops in order.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RegionConfig } from '../config/region.js';
import { MaasClient } from '../maas/client.js';
import type { ApiKey } from '../maas/api-key.js';
import { createRunner } from '../exec/runner.js';
import { SidecarHost, type HostStatusField } from '../sidecar/host.js';
import { createRegionMetrics, recordDeclaredDhcp, type RegionMetrics } from '../telemetry/metrics.js';
import { TerminalError } from '../errors.js';
import { retry } from '../util/retry.js';
import { Publication } from './publication.js';
import { SecretSource } from './secret-source.js';
import { obtainApiKey, verifyAdminKey, waitForRegion, terminalIfKeyRefused } from './bootstrap.js';
import { dhcpRole, rackLookup, regionApi } from './api.js';
import { reconcileNetwork } from './network/reconcile.js';
import { watchReachability } from './reachability.js';
import { toObservedRack, toObservedSubnet } from './network/observe.js';
import type { Action, Conflict } from './network/plan.js';
import { describeAction } from './network/describe.js';
import type { ObservedRack, ObservedSubnet } from './network/observed.js';
import { RegionStatusSchema, type Change, type RackSummary, type RegionStatus } from '../protocol/v1.js';
import { EVENTS } from '../protocol/events.js';
import { CONFLICT_KINDS } from '../protocol/labels.js';
import { isLoopback, loadTlsMaterial, recordCertificateExpiry, requireClientCertificate, serverTlsOptions, setServerContext } from '../http/tls.js';
import { readTokenFile } from '../config/env.js';

const BOOTSTRAP_BACKOFF = { initialMs: 250, maxMs: 10_000 };
/** A TerminalError (the key is no admin's) needs a person: bootstrap asks again, but rarely. */
const TERMINAL_BACKOFF = { initialMs: 30_000, maxMs: 300_000 };

export class RegionSidecar {
  readonly publication = new Publication();
  readonly metrics: RegionMetrics;
  readonly #host: SidecarHost<RegionStatus>;
  #client: MaasClient | undefined;
  #regionReachable = false;
  #conflicts: readonly Conflict[] = [];
  #pending: readonly Change[] = [];
  #racks: { readonly at: number; readonly list: readonly RackSummary[] } | undefined;
  readonly #anonymous: MaasClient;
  readonly #secret: SecretSource;
  /** The tokens accepted now: re-read when SIDECAR_TOKEN_FILE changes (two lines while rotating). */
  #tokens: readonly string[];

  constructor(
    private readonly config: RegionConfig,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.#tokens = config.tokens;
    this.metrics = createRegionMetrics(registry, {
      generationAgeSeconds: () => {
        const since = this.publication.current?.since;
        return since === undefined ? undefined : (Date.now() - since) / 1000;
      },
    });
    // The declaration is loaded once, with the config: what it says of DHCP is known from the start.
    recordDeclaredDhcp(this.metrics, config.network?.subnets ?? []);
    // One attempt per call: the bootstrap wait and the reachability probe do their own retrying.
    this.#anonymous = this.#newClient(undefined, 1);
    this.#secret = new SecretSource({
      path: config.secretFile,
      pollMs: config.secretPollMs,
      logger: logger.child({ component: 'secret' }),
      onStable: (secret) => {
        if (this.publication.publish(config.publicUrl, secret)) {
          logger.info({ event: EVENTS.secretPublished, generation: this.publication.current?.generation }, 'region secret published');
          this.#host.loop.trigger('secret changed');
        }
        this.#updateReady();
      },
    });
    this.#host = new SidecarHost<RegionStatus>({
      kind: 'region',
      logger,
      registry,
      metrics: this.metrics,
      listen: config.listen,
      schedule: config.schedule,
      ...(config.tls ? { https: serverTlsOptions(config.tls.material, config.tls.clientCa) } : {}),
      loop: { pass: (signal) => this.#pass(signal), timeoutMs: config.reconcileTimeoutMs },
      checks: {
        region: () => (this.#regionReachable ? undefined : 'region API not answering'),
        bootstrap: () => (this.#client ? undefined : 'admin API key not obtained yet'),
        secret: () => (this.publication.current ? undefined : 'region secret not published yet'),
      },
      status: { schema: RegionStatusSchema, fields: () => this.#statusFields() },
      v1: (app) =>
        regionApi(app, {
          token: () => this.#tokens,
          onAuthorized: (index) => this.metrics.tokenAccepted.inc({ line: index === 0 ? 'first' : 'second' }),
          publication: this.publication,
          notReadyReason: () => (this.#regionReachable ? undefined : 'region API not answering'),
          // One shared, briefly cached MAAS read answers every rack asking at once.
          rackStatus: rackLookup(() => this.#client),
          requestReconcile: (reason) => this.#host.loop.trigger(reason),
          onUnauthorized: () => this.metrics.rejected.inc({ reason: 'unauthorized' }),
          closing: this.#host.stopping,
        }),
      files: (log) => this.#files(log),
      run: (signal) => this.#run(signal),
    });
    this.#wireTls();
  }

  get app() {
    return this.#host.app;
  }

  /** Starts serving at once (health, not-ready), then bootstraps in the background. */
  start(): Promise<string> {
    return this.#host.start();
  }

  /** SIGTERM: stop scheduling, let the pass in flight finish, end long-polls, close the server. */
  stop(): Promise<void> {
    return this.#host.stop();
  }

  /**
   * Exports the served certificate's end, counts refused TLS handshakes; with a client CA, /v1
   * requires a client certificate it signs.
   */
  #wireTls(): void {
    const tls = this.config.tls;
    if (!tls) return;
    recordCertificateExpiry(this.metrics.tlsCertificateExpiry, 'server', tls.material.leaf);
    const log = this.logger.child({ component: 'tls' });
    this.app.server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      this.metrics.rejected.inc({ reason: 'tls' });
      // Plain HTTP to this port, an untrusted client, a scanner: at debug (the counter says how many).
      log.debug({ code: err.code, reason: err.message.slice(0, 200) }, 'TLS handshake refused');
    });
    if (tls.clientCa) {
      // A root hook: it runs before the /v1 context's bearer check.
      this.app.addHook(
        'onRequest',
        requireClientCertificate('/v1', (reason) => {
          this.metrics.rejected.inc({ reason: 'unauthorized' });
          log.warn({ reason }, 'client certificate refused');
        }),
      );
    }
  }

  /**
   * The token file and the TLS files, re-read when they change. A new certificate is used for new
   * connections (setSecureContext); open ones, long-polls included, keep going.
   */
  #files(log: Logger) {
    const token = {
      paths: [this.config.tokenFile],
      what: 'sidecar token',
      reload: async () => {
        const tokens = await readTokenFile('SIDECAR_TOKEN_FILE', this.config.tokenFile);
        if (tokens.join('\n') === this.#tokens.join('\n')) return;
        this.#tokens = tokens;
        log.info({ event: EVENTS.tokenReloaded, tokens: tokens.length }, 'sidecar token file re-read');
      },
    };
    const files = this.config.tls?.files;
    if (!files) return [token];
    const certificate = {
      paths: [files.cert.path, files.key.path, ...(files.ca ? [files.ca.path] : [])],
      what: 'TLS certificate',
      reload: async () => {
        const material = await loadTlsMaterial(files);
        setServerContext(this.app.server, material);
        recordCertificateExpiry(this.metrics.tlsCertificateExpiry, 'server', material.leaf);
        log.info({ event: EVENTS.tlsReloaded, ...material.leaf }, 'TLS certificate re-read: new connections use it');
      },
    };
    return [token, certificate];
  }

  /** While serving: read the secret, probe the region, bootstrap (then the loop runs). */
  async #run(signal: AbortSignal): Promise<void> {
    if (!this.config.tls && !isLoopback(this.config.listen.host)) {
      this.logger.warn(
        { event: EVENTS.tlsOff, host: this.config.listen.host },
        'serving /v1 over plain HTTP on a non-loopback address: the region secret and the token cross the network unencrypted (set SIDECAR_TLS_CERT_FILE and SIDECAR_TLS_KEY_FILE)',
      );
    }
    this.#secret.start();
    signal.addEventListener('abort', () => this.#secret.stop(), { once: true });
    const reachability = watchReachability(
      { client: this.#anonymous, timeoutMs: this.config.maasTimeoutMs, onResult: (problem) => this.#setReachable(problem === undefined, problem) },
      signal,
    );
    await Promise.all([reachability, this.#bootstrapUntilDone(signal)]);
  }

  #newClient(apiKey: ApiKey | undefined, readAttempts?: number): MaasClient {
    return new MaasClient({
      url: this.config.maasUrl,
      ...(apiKey ? { apiKey } : {}),
      ...(readAttempts ? { readAttempts } : {}),
      timeoutMs: this.config.maasTimeoutMs,
      onRequest: (event) => this.metrics.observeRequest(event),
    });
  }

  /** Bootstraps, retrying until it succeeds or the sidecar stops; then the reconcile loop starts. */
  async #bootstrapUntilDone(signal: AbortSignal): Promise<void> {
    const log = this.logger.child({ component: 'bootstrap' });
    try {
      await retry(
        () => this.#bootstrap(log, signal),
        {
          backoff: (err) => (err instanceof TerminalError ? TERMINAL_BACKOFF : BOOTSTRAP_BACKOFF),
          onRetry: ({ err, retryInMs }) => log.error({ err, retryInMs }, 'bootstrap failed'),
        },
        signal,
      );
    } catch (err) {
      // Without a limit, only stopping ends the retrying.
      if (signal.aborted) return;
      throw err;
    }
    this.#host.startLoop();
  }

  async #bootstrap(log: Logger, signal: AbortSignal): Promise<void> {
    const version = await waitForRegion(this.#anonymous, BOOTSTRAP_BACKOFF, signal, (attempt, retryInMs, err) =>
      log.info({ attempt, retryInMs, reason: (err as Error).message }, 'region not answering yet'),
    );
    // An answer is an answer: no need to wait for the reachability probe's next check.
    this.#setReachable(true);
    log.info({ event: EVENTS.regionAnswered, version: version.version }, 'region answers');
    const apiKey = this.config.admin.kind === 'apiKey' ? this.config.admin.apiKey : await this.#keyFromCli(signal);
    const client = this.#newClient(apiKey);
    const username = await verifyAdminKey(client, signal);
    this.#client = client;
    log.info({ event: EVENTS.adminKeyVerified, username }, 'bootstrapped: admin API key verified');
    this.#updateReady();
  }

  async #keyFromCli(signal: AbortSignal): Promise<ApiKey> {
    const admin = this.config.admin;
    if (admin.kind !== 'createAdmin') throw new Error('unreachable: no admin to create');
    const runner = createRunner({ mode: this.config.runner, timeoutMs: this.config.commandTimeoutMs, logger: this.logger });
    return obtainApiKey(
      runner,
      { command: this.config.regionCommand, username: admin.username, email: admin.email, password: admin.password },
      this.logger,
      signal,
    );
  }

  /**
   * One level-based pass: converge the declared network. Readiness is the reachability probe's:
   * a failed pass must not flip /readyz. MAAS refusing the admin key (401/403) is terminal:
   * retrying with backoff will not help until something changes (the next tick tries again).
   */
  async #pass(signal: AbortSignal): Promise<void> {
    try {
      await this.#converge(signal);
    } catch (err) {
      throw terminalIfKeyRefused(err);
    }
  }

  async #converge(signal: AbortSignal): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('not bootstrapped');
    const log = this.logger.child({ component: 'reconcile', runId: `${Date.now().toString(36)}` });
    if (!this.config.network) {
      const [racks, subnets] = await Promise.all([client.listRackControllers(signal), client.listSubnets(signal)]);
      this.#recordRacks(racks.map(toObservedRack), subnets.map(toObservedSubnet));
      return;
    }
    const result = await reconcileNetwork(
      {
        client,
        desired: this.config.network,
        logger: log,
        onApplied: (action) => this.metrics.drift.inc({ field: action.field }),
        onPending: (actions) => {
          this.#pending = actions.map(toChange);
        },
      },
      signal,
    );
    this.#recordRacks(result.observed.racks, result.observed.subnets);
    this.#conflicts = result.conflicts;
    // Every kind is set each pass: a reset() would drop the zero series and a kind with none would vanish.
    for (const kind of CONFLICT_KINDS) this.metrics.conflicts.set({ kind }, result.conflicts.filter((c) => c.kind === kind).length);
    for (const conflict of result.conflicts)
      log.warn({ event: EVENTS.conflictFound, kind: conflict.kind, cidr: conflict.cidr, detail: conflict.message }, 'conflict left for a person');
    for (const subnet of this.config.network.subnets) {
      const observed = result.observed.subnets.find((s) => s.cidr === subnet.cidr);
      this.metrics.dhcpEnabled.set({ cidr: subnet.cidr }, observed?.vlan.dhcpOn ? 1 : 0);
    }
  }

  #recordRacks(racks: readonly ObservedRack[], subnets: readonly ObservedSubnet[]): void {
    this.metrics.racksKnown.set(racks.length);
    this.metrics.racksHealthy.set(racks.filter((r) => r.rackd === 'running').length);
    this.#racks = { at: Date.now(), list: racks.map((rack) => rackSummary(rack, subnets)) };
  }

  #setReachable(reachable: boolean, reason?: string): void {
    if (this.#regionReachable === reachable) return;
    this.#regionReachable = reachable;
    if (reachable) this.logger.info({ reachable }, 'region API reachable');
    else this.logger.warn({ reachable, reason }, 'region API unreachable');
    this.#updateReady();
    // Long-pollers learn of readiness flips at once.
    this.publication.wakeAll();
  }

  #updateReady(): void {
    this.metrics.regionReady.set(this.#host.readiness.ready() ? 1 : 0);
  }

  /** The region's part of GET /v1/status (the host adds readiness and the loop). Never the secret. */
  #statusFields(): Omit<RegionStatus, HostStatusField> {
    const published = this.publication.current;
    return {
      regionReachable: this.#regionReachable,
      bootstrapped: this.#client !== undefined,
      network: this.config.network !== undefined,
      generation: published?.generation ?? null,
      generationSince: published?.since ?? null,
      publishedUrl: published?.url ?? null,
      racks: [...(this.#racks?.list ?? [])],
      racksObservedAt: this.#racks?.at ?? null,
      pending: [...this.#pending],
      conflicts: [...this.#conflicts],
    };
  }
}

const toChange = (action: Action): Change => ({ kind: action.kind, field: action.field, description: describeAction(action) });

/** A rack as the pass saw it: its services, and its DHCP role on each subnet it has an interface on. */
function rackSummary(rack: ObservedRack, subnets: readonly ObservedSubnet[]): RackSummary {
  return {
    hostname: rack.hostname,
    systemId: rack.systemId,
    rackd: rack.rackd,
    dhcpd: rack.dhcpd,
    subnets: subnets
      .filter((s) => rack.vlanIds.includes(s.vlan.id))
      .map((s) => ({
        cidr: s.cidr,
        vid: s.vlan.vid,
        dhcpOn: s.vlan.dhcpOn,
        gatewayIp: s.gatewayIp,
        role: dhcpRole(rack.systemId, s.vlan.primaryRack, s.vlan.secondaryRack),
      })),
  };
}

/**
 * The region sidecar: wires config, MAAS client, bootstrap, secret publishing, the reconcile
 * loop and the HTTP server, and takes them down in order.
 */
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RegionConfig } from '../config/region.js';
import { MaasClient } from '../maas/client.js';
import type { ApiKey } from '../maas/api-key.js';
import { createRunner } from '../exec/runner.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import { buildServer } from '../http/server.js';
import { checkResults, readyChecks, type ProblemCheck } from '../http/health.js';
import { createRegionMetrics, recordDeclaredDhcp, recordPass, type RegionMetrics } from '../telemetry/metrics.js';
import { TerminalError } from '../errors.js';
import { sleep, backoffDelay } from '../util/backoff.js';
import { Publication } from './publication.js';
import { SecretSource } from './secret-source.js';
import { obtainApiKey, verifyAdminKey, waitForRegion } from './bootstrap.js';
import { dhcpRole, rackLookup, regionApi } from './api.js';
import { reconcileNetwork } from './network/reconcile.js';
import { watchReachability } from './reachability.js';
import { toObservedRack, toObservedSubnet } from './network/observe.js';
import type { Action, Conflict } from './network/plan.js';
import { describeAction } from './network/apply.js';
import type { ObservedRack, ObservedSubnet } from './network/observed.js';
import type { Change, LastPass, RackSummary, RegionStatus } from '../protocol/v1.js';
import { FileWatch, isLoopback, loadTlsMaterial, requireClientCertificate, serverTlsOptions, setServerContext } from '../http/tls.js';
import { readTokenFile } from '../config/env.js';

const BOOTSTRAP_BACKOFF = { initialMs: 250, maxMs: 10_000 };

export class RegionSidecar {
  readonly publication = new Publication();
  readonly metrics: RegionMetrics;
  readonly app;
  readonly loop: ReconcileLoop;
  #client: MaasClient | undefined;
  #regionReachable = false;
  #conflicts: readonly Conflict[] = [];
  #pending: readonly Change[] = [];
  #lastPass: LastPass = null;
  #racks: { readonly at: number; readonly list: readonly RackSummary[] } | undefined;
  readonly #anonymous: MaasClient;
  readonly #secret: SecretSource;
  readonly #stopping = new AbortController();
  #cronTask: ReturnType<typeof cron.schedule> | undefined;
  #bootstrap: Promise<void> | undefined;
  #reachability: Promise<void> | undefined;
  /** The tokens accepted now: re-read when SIDECAR_TOKEN_FILE changes (two lines while rotating). */
  #tokens: readonly string[];
  readonly #fileWatches: FileWatch[] = [];
  /** What /readyz checks, one by one (region reachable, bootstrapped, secret published); /v1/status shows the same with reasons. */
  readonly #checks: Readonly<Record<string, ProblemCheck>> = {
    region: () => (this.#regionReachable ? undefined : 'region API not answering'),
    bootstrap: () => (this.#client ? undefined : 'admin API key not obtained yet'),
    secret: () => (this.publication.current ? undefined : 'region secret not published yet'),
  };

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
          logger.info({ event: 'secret.published', generation: this.publication.current?.generation }, 'region secret published');
          this.loop.trigger('secret changed');
        }
        this.#updateReady();
      },
    });
    const record = recordPass(this.metrics);
    this.loop = new ReconcileLoop({
      name: 'region',
      pass: (signal) => this.#pass(signal),
      timeoutMs: config.reconcileTimeoutMs,
      backoff: { initialMs: 500, maxMs: 30_000 },
      logger,
      onPass: (outcome) => {
        record(outcome);
        this.#lastPass = { ok: outcome.ok, finishedAt: Date.now(), seconds: outcome.seconds, ...(outcome.ok ? {} : { error: errorText(outcome.error) }) };
      },
    });
    this.app = buildServer({
      logger,
      registry,
      liveness: () => (this.loop.isWedged(30_000) ? 'reconcile loop wedged' : undefined),
      readiness: readyChecks(this.#checks),
      ...(config.tls ? { https: serverTlsOptions(config.tls.material, config.tls.clientCa) } : {}),
    });
    this.#wireTls();
    this.app.register(regionApi, {
      prefix: '/v1',
      token: () => this.#tokens,
      onAuthorized: (index) => this.metrics.tokenAccepted.inc({ line: index === 0 ? 'first' : 'second' }),
      publication: this.publication,
      notReadyReason: () => (this.#regionReachable ? undefined : 'region API not answering'),
      // One shared, briefly cached MAAS read answers every rack asking at once.
      rackStatus: rackLookup(() => this.#client),
      requestReconcile: (reason) => this.loop.trigger(reason),
      status: () => this.#status(),
      onUnauthorized: () => this.metrics.rejected.inc({ reason: 'unauthorized' }),
      closing: this.#stopping.signal,
    });
  }

  /** Starts serving at once (health, not-ready), then bootstraps in the background. */
  async start(): Promise<string> {
    const address = await this.app.listen({ host: this.config.listen.host, port: this.config.listen.port });
    if (!this.config.tls && !isLoopback(this.config.listen.host)) {
      this.logger.warn(
        { event: 'tls.off', host: this.config.listen.host },
        'serving /v1 over plain HTTP on a non-loopback address: the region secret and the token cross the network unencrypted (set SIDECAR_TLS_CERT_FILE and SIDECAR_TLS_KEY_FILE)',
      );
    }
    await this.#watchFiles();
    this.#secret.start();
    this.#reachability = watchReachability(
      {
        client: this.#anonymous,
        timeoutMs: this.config.maasTimeoutMs,
        onResult: (problem) => this.#setReachable(problem === undefined, problem),
      },
      this.#stopping.signal,
    );
    this.#bootstrap = this.#bootstrapUntilDone();
    return address;
  }

  /** SIGTERM: stop scheduling, let the pass in flight finish, end long-polls, close the server. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#cronTask?.stop();
    this.#secret.stop();
    await this.#bootstrap?.catch(() => undefined);
    await this.#reachability;
    await this.loop.stop();
    for (const watch of this.#fileWatches) watch.stop();
    await this.app.close();
  }

  /** Counts refused TLS handshakes; with a client CA, /v1 requires a client certificate it signs. */
  #wireTls(): void {
    const tls = this.config.tls;
    if (!tls) return;
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
   * Re-reads the token file and the TLS files when they change. A new certificate is used for new
   * connections (setSecureContext); open ones, long-polls included, keep going.
   */
  async #watchFiles(): Promise<void> {
    const log = this.logger.child({ component: 'files' });
    this.#fileWatches.push(
      new FileWatch({
        paths: [this.config.tokenFile],
        what: 'sidecar token',
        logger: log,
        reload: async () => {
          const tokens = await readTokenFile('SIDECAR_TOKEN_FILE', this.config.tokenFile);
          if (tokens.join('\n') === this.#tokens.join('\n')) return;
          this.#tokens = tokens;
          log.info({ event: 'token.reloaded', tokens: tokens.length }, 'sidecar token file re-read');
        },
      }),
    );
    const tls = this.config.tls;
    if (tls) {
      const files = tls.files;
      this.#fileWatches.push(
        new FileWatch({
          paths: [files.cert.path, files.key.path, ...(files.ca ? [files.ca.path] : [])],
          what: 'TLS certificate',
          logger: log,
          reload: async () => {
            const material = await loadTlsMaterial(files);
            setServerContext(this.app.server, material);
            log.info({ event: 'tls.reloaded', ...material.leaf }, 'TLS certificate re-read: new connections use it');
          },
        }),
      );
    }
    for (const watch of this.#fileWatches) await watch.start();
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

  async #bootstrapUntilDone(): Promise<void> {
    const log = this.logger.child({ component: 'bootstrap' });
    const signal = this.#stopping.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const version = await waitForRegion(this.#anonymous, BOOTSTRAP_BACKOFF, signal, (attempt, retryInMs, err) =>
          log.info({ attempt, retryInMs, reason: (err as Error).message }, 'region not answering yet'),
        );
        // An answer is an answer: no need to wait for the reachability probe's next check.
        this.#setReachable(true);
        log.info({ event: 'region.answered', version: version.version }, 'region answers');
        const apiKey = this.config.admin.kind === 'apiKey' ? this.config.admin.apiKey : await this.#keyFromCli(signal);
        const client = this.#newClient(apiKey);
        const username = await verifyAdminKey(client, signal);
        this.#client = client;
        log.info({ event: 'admin.key_verified', username }, 'bootstrapped: admin API key verified');
        this.#updateReady();
        this.loop.start();
        this.#cronTask = cron.schedule(this.config.schedule, () => this.loop.trigger('schedule'));
        return;
      } catch (err) {
        if (signal.aborted) return;
        const terminal = err instanceof TerminalError;
        const delay = backoffDelay(attempt, terminal ? { initialMs: 30_000, maxMs: 300_000 } : BOOTSTRAP_BACKOFF);
        log.error({ err, retryInMs: delay }, 'bootstrap failed');
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  async #keyFromCli(signal: AbortSignal): Promise<ApiKey> {
    const admin = this.config.admin;
    if (admin.kind !== 'createAdmin') throw new Error('unreachable: no admin to create');
    const runner = createRunner({ mode: this.config.runner, timeoutMs: this.config.commandTimeoutMs, logger: this.logger });
    return obtainApiKey(runner, { command: this.config.regionCommand, username: admin.username, email: admin.email, password: admin.password }, this.logger, signal);
  }

  /**
   * One level-based pass: converge the declared network. Readiness is the reachability probe's:
   * a failed pass must not flip /readyz.
   */
  async #pass(signal: AbortSignal): Promise<void> {
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
    this.metrics.conflicts.reset();
    for (const conflict of result.conflicts) this.metrics.conflicts.inc({ kind: conflict.kind });
    for (const conflict of result.conflicts) log.warn({ event: 'conflict.found', kind: conflict.kind, cidr: conflict.cidr, detail: conflict.message }, 'conflict left for a person');
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
    this.metrics.regionReady.set(this.#isReady() ? 1 : 0);
  }

  /** Every /readyz check passes. */
  #isReady(): boolean {
    return Object.values(this.#checks).every((check) => check() === undefined);
  }

  /** GET /v1/status: what a person asks with `maas-sidecar status`. Never the secret. */
  #status(): RegionStatus {
    const { lastError, ...loop } = this.loop.state;
    const published = this.publication.current;
    return {
      kind: 'region',
      now: Date.now(),
      ready: this.#isReady(),
      checks: checkResults(this.#checks),
      regionReachable: this.#regionReachable,
      bootstrapped: this.#client !== undefined,
      network: this.config.network !== undefined,
      generation: published?.generation ?? null,
      generationSince: published?.since ?? null,
      publishedUrl: published?.url ?? null,
      loop: { ...loop, ...(lastError === undefined ? {} : { lastError }) },
      lastPass: this.#lastPass,
      racks: [...(this.#racks?.list ?? [])],
      racksObservedAt: this.#racks?.at ?? null,
      pending: [...this.#pending],
      conflicts: [...this.#conflicts],
    };
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

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

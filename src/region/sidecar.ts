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
import { createRegionMetrics, recordPass, type RegionMetrics } from '../telemetry/metrics.js';
import { TerminalError } from '../errors.js';
import { sleep, backoffDelay } from '../util/backoff.js';
import { Publication } from './publication.js';
import { SecretSource } from './secret-source.js';
import { obtainApiKey, verifyAdminKey, waitForRegion } from './bootstrap.js';
import { rackLookup, regionApi } from './api.js';
import { reconcileNetwork } from './network/reconcile.js';
import { watchReachability } from './reachability.js';
import { toObservedRack } from './network/observe.js';
import type { Conflict } from './network/plan.js';

const BOOTSTRAP_BACKOFF = { initialMs: 250, maxMs: 10_000 };

export class RegionSidecar {
  readonly publication = new Publication();
  readonly metrics: RegionMetrics;
  readonly app;
  readonly loop: ReconcileLoop;
  #client: MaasClient | undefined;
  #regionReachable = false;
  #conflicts: readonly Conflict[] = [];
  readonly #anonymous: MaasClient;
  readonly #secret: SecretSource;
  readonly #stopping = new AbortController();
  #cronTask: ReturnType<typeof cron.schedule> | undefined;
  #bootstrap: Promise<void> | undefined;
  #reachability: Promise<void> | undefined;

  constructor(
    private readonly config: RegionConfig,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.metrics = createRegionMetrics(registry, {
      generationAgeSeconds: () => {
        const since = this.publication.current?.since;
        return since === undefined ? undefined : (Date.now() - since) / 1000;
      },
    });
    // One attempt per call: the bootstrap wait and the reachability probe do their own retrying.
    this.#anonymous = this.#newClient(undefined, 1);
    this.#secret = new SecretSource({
      path: config.secretFile,
      pollMs: config.secretPollMs,
      logger: logger.child({ component: 'secret' }),
      onStable: (secret) => {
        if (this.publication.publish(config.publicUrl, secret)) {
          logger.info({ generation: this.publication.current?.generation }, 'region secret published');
          this.loop.trigger('secret changed');
        }
        this.#updateReady();
      },
    });
    this.loop = new ReconcileLoop({
      name: 'region',
      pass: (signal) => this.#pass(signal),
      timeoutMs: config.reconcileTimeoutMs,
      backoff: { initialMs: 500, maxMs: 30_000 },
      logger,
      onPass: recordPass(this.metrics),
    });
    this.app = buildServer({
      logger,
      registry,
      liveness: () => (this.loop.isWedged(30_000) ? 'reconcile loop wedged' : undefined),
      readiness: {
        region: () => {
          if (!this.#regionReachable) throw new Error('region API not answering');
        },
        bootstrap: () => {
          if (!this.#client) throw new Error('admin API key not obtained yet');
        },
        secret: () => {
          if (!this.publication.current) throw new Error('region secret not published yet');
        },
      },
    });
    this.app.register(regionApi, {
      prefix: '/v1',
      token: config.token,
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
    await this.app.close();
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
        log.info({ version: version.version }, 'region answers');
        const apiKey = this.config.admin.kind === 'apiKey' ? this.config.admin.apiKey : await this.#keyFromCli(signal);
        const client = this.#newClient(apiKey);
        const username = await verifyAdminKey(client, signal);
        this.#client = client;
        log.info({ username }, 'bootstrapped: admin API key verified');
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
      this.#recordRacks((await client.listRackControllers(signal)).map(toObservedRack));
      return;
    }
    const result = await reconcileNetwork(
      { client, desired: this.config.network, logger: log, onApplied: (action) => this.metrics.drift.inc({ field: action.field }) },
      signal,
    );
    this.#recordRacks(result.observed.racks);
    this.#conflicts = result.conflicts;
    this.metrics.conflicts.reset();
    for (const conflict of result.conflicts) this.metrics.conflicts.inc({ kind: conflict.kind });
    for (const conflict of result.conflicts) log.warn({ kind: conflict.kind, cidr: conflict.cidr, detail: conflict.message }, 'conflict left for a person');
    for (const subnet of this.config.network.subnets) {
      const observed = result.observed.subnets.find((s) => s.cidr === subnet.cidr);
      this.metrics.dhcpEnabled.set({ cidr: subnet.cidr }, observed?.vlan.dhcpOn ? 1 : 0);
    }
  }

  #recordRacks(racks: readonly { rackd: string }[]): void {
    this.metrics.racksKnown.set(racks.length);
    this.metrics.racksHealthy.set(racks.filter((r) => r.rackd === 'running').length);
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

  /** Region reachable, bootstrapped, secret published: what /readyz checks one by one. */
  #isReady(): boolean {
    return this.#regionReachable && this.#client !== undefined && this.publication.current !== undefined;
  }

  #status(): Record<string, unknown> {
    const { lastError, ...loop } = this.loop.state;
    return {
      ready: this.#isReady(),
      regionReachable: this.#regionReachable,
      bootstrapped: this.#client !== undefined,
      generation: this.publication.current?.generation ?? null,
      loop: { ...loop, ...(lastError === undefined ? {} : { lastError }) },
      conflicts: this.#conflicts,
    };
  }
}

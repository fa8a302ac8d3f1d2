/**
 * What the region and rack sidecars share: the HTTP server (/healthz, /readyz, /metrics and a
 * typed /v1/status), the reconcile loop and its node-cron schedule, the files re-read while
 * running, and listen/stop. Each sidecar supplies its pass, its readiness checks, its status
 * fields and its background work (bootstrap, watches); the domain stays in region/ and rack/.
 */
import cron from 'node-cron';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { TSchema } from 'typebox';
import { buildServer, ERROR_RESPONSES } from '../http/server.js';
import { FileWatch, type FileWatchOptions } from '../http/tls.js';
import { ReconcileLoop, type PassResult } from '../reconcile/loop.js';
import { recordPass } from '../telemetry/metrics.js';
import type { LastPass, RackSidecarStatus, RegionStatus } from '../protocol/v1.js';
import { Readiness, type ProblemCheck } from './readiness.js';

export type SidecarStatus = RegionStatus | RackSidecarStatus;

/** The /v1/status fields the host fills in; the sidecar supplies the rest. */
export type HostStatusField = 'kind' | 'now' | 'ready' | 'checks' | 'loop' | 'lastPass';

/** A pass running this long past its timeout means the loop is wedged: /healthz fails, the pod restarts. */
const WEDGED_GRACE_MS = 30_000;
const PASS_BACKOFF = { initialMs: 500, maxMs: 30_000 };

export interface SidecarHostOptions<S extends SidecarStatus> {
  readonly kind: S['kind'];
  readonly logger: Logger;
  readonly registry: Registry;
  /** Where the reconcile pass results are counted. */
  readonly metrics: Parameters<typeof recordPass>[0];
  readonly listen: { readonly host: string; readonly port: number };
  /** node-cron schedule (6 fields) of the passes; runs once startLoop() is called. */
  readonly schedule: string;
  /** Serve HTTPS with these options (see http/tls.ts). */
  readonly https?: HttpsServerOptions;
  readonly loop: {
    readonly pass: (signal: AbortSignal) => Promise<PassResult>;
    readonly timeoutMs: number;
    /** On stop, abort the pass in flight (a half-run command must not outlive the sidecar). */
    readonly abortOnStop?: boolean;
  };
  /** What /readyz checks, by name; /v1/status shows the same with reasons. */
  readonly checks: Readonly<Record<string, ProblemCheck>>;
  readonly status: {
    /** The whole answer's schema: fastify sends nothing it does not declare. */
    readonly schema: TSchema;
    readonly fields: () => Omit<S, HostStatusField>;
  };
  /**
   * The sidecar's own /v1 routes, added to the context /v1/status is in: a hook they add (the
   * region's bearer token) guards /v1/status too. Without them /v1/status is open.
   */
  readonly v1?: (app: FastifyInstance) => Promise<void>;
  /** The files re-read when they change (token, TLS), logged to `log`. */
  readonly files: (log: Logger) => readonly Omit<FileWatchOptions, 'logger'>[];
  /** The sidecar's background work (bootstrap, watches, probes), started after listen; it ends when `signal` aborts. */
  readonly run: (signal: AbortSignal) => Promise<void>;
  /** After the loop stopped and before the server closes: what the passes used (a client's connections). */
  readonly close?: () => Promise<void>;
  readonly now?: () => number;
}

export class SidecarHost<S extends SidecarStatus> {
  readonly app;
  readonly loop: ReconcileLoop;
  readonly readiness: Readiness;
  #lastPass: LastPass = null;
  #cronTask: ReturnType<typeof cron.schedule> | undefined;
  #running: Promise<void> | undefined;
  readonly #fileWatches: FileWatch[] = [];
  readonly #stopping = new AbortController();
  readonly #options: SidecarHostOptions<S>;
  readonly #now: () => number;

  constructor(options: SidecarHostOptions<S>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.readiness = new Readiness(options.checks);
    const record = recordPass(options.metrics);
    this.loop = new ReconcileLoop({
      name: options.kind,
      pass: options.loop.pass,
      timeoutMs: options.loop.timeoutMs,
      backoff: PASS_BACKOFF,
      logger: options.logger,
      ...(options.loop.abortOnStop ? { abortOnStop: true } : {}),
      onPass: (outcome) => {
        record(outcome);
        const error = outcome.ok ? {} : { error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) };
        this.#lastPass = { ok: outcome.ok, finishedAt: this.#now(), seconds: outcome.seconds, ...error };
      },
    });
    this.app = buildServer({
      logger: options.logger,
      registry: options.registry,
      liveness: () => (this.loop.isWedged(WEDGED_GRACE_MS) ? 'reconcile loop wedged' : undefined),
      readiness: this.readiness.forReadyz(),
      ...(options.https ? { https: options.https } : {}),
    });
    this.app.register(
      async (v1) => {
        await options.v1?.(v1);
        v1.get('/status', { schema: { response: { ...ERROR_RESPONSES, 200: options.status.schema } } }, async () => this.status());
      },
      { prefix: '/v1' },
    );
  }

  /** Aborted when stop() begins: ends the sidecar's background work and long-polls. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Serves at once (health, not ready), then starts re-reading files and the sidecar's background work. */
  async start(): Promise<string> {
    const address = await this.app.listen({ host: this.#options.listen.host, port: this.#options.listen.port });
    const log = this.#options.logger.child({ component: 'files' });
    for (const spec of this.#options.files(log)) this.#fileWatches.push(new FileWatch({ ...spec, logger: log }));
    for (const watch of this.#fileWatches) await watch.start();
    this.#running = this.#options.run(this.#stopping.signal);
    return address;
  }

  /** Starts the reconcile loop (a first pass now) and its schedule; once stopping, nothing starts. */
  startLoop(): void {
    if (this.#stopping.signal.aborted || this.#cronTask) return;
    this.loop.start();
    this.#cronTask = cron.schedule(this.#options.schedule, () => this.loop.trigger('schedule'));
  }

  /** SIGTERM: stop scheduling and the background work, let the loop stop, end long-polls, close the server. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#cronTask?.stop();
    await this.#running;
    await this.loop.stop();
    for (const watch of this.#fileWatches) watch.stop();
    await this.#options.close?.();
    await this.app.close();
  }

  /** GET /v1/status: what a person asks with `maas-sidecar status`. Never a secret. */
  status(): S {
    const checks = this.readiness.results();
    return {
      kind: this.#options.kind,
      now: this.#now(),
      ready: checks.every((check) => check.ok),
      checks,
      loop: this.loop.state,
      lastPass: this.#lastPass,
      ...this.#options.status.fields(),
    } as S;
  }
}

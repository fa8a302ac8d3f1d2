/**
 * The generic reconcile loop: one pass at a time (single flight), run now on trigger(), backoff
 * with a cap after failures (reset on success), each pass under a timeout. Chained waits, never
 * an overlapping interval; a trigger during a pass queues exactly one more. A pass's outcome says
 * what comes next: nothing (done until triggered), `{ requeueAfterMs }` (poll again then), a thrown
 * error (retry with backoff), a thrown TerminalError (no retry until the next trigger).
 */
import type { Logger } from 'pino';
import { TerminalError } from '../errors.js';
import type { LoopStatus } from '../protocol/labels.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import { withDeadline } from '../util/deadline.js';

export interface LoopState {
  readonly status: LoopStatus;
  readonly passes: number;
  readonly consecutiveFailures: number;
  readonly lastSuccessAt?: number;
  readonly lastError?: string;
  /** When the pass now running started (status 'running' only). */
  readonly runningSince?: number;
}

/** What a pass that succeeded asks for: nothing (done until the next trigger), or another pass after a delay. */
export type PassResult = void | { readonly requeueAfterMs: number };

export interface PassOutcome {
  readonly ok: boolean;
  readonly seconds: number;
  readonly error?: unknown;
}

export interface LoopOptions {
  readonly name: string;
  /** One level-based pass. Throwing means "retry with backoff"; throwing a TerminalError, "not until something changes". */
  readonly pass: (signal: AbortSignal) => Promise<PassResult>;
  readonly timeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly logger: Logger;
  readonly onPass?: (outcome: PassOutcome) => void;
  /** On stop(), abort the pass in flight (its signal fires) instead of letting it finish. */
  readonly abortOnStop?: boolean;
  readonly now?: () => number;
  readonly random?: () => number;
}

export class ReconcileLoop {
  #state: LoopState = { status: 'idle', passes: 0, consecutiveFailures: 0 };
  #triggered = false;
  /** The last pass threw a TerminalError: no backoff retry; the next trigger of any kind runs a pass. */
  #terminal = false;
  #stopped = false;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  readonly #stopping = new AbortController();
  readonly #options: LoopOptions;
  readonly #now: () => number;

  constructor(options: LoopOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get state(): LoopState {
    return this.#state;
  }

  /** A pass running past its timeout by more than `graceMs` means the loop is wedged. */
  isWedged(graceMs: number): boolean {
    const since = this.#state.runningSince;
    return since !== undefined && this.#now() - since > this.#options.timeoutMs + graceMs;
  }

  start(): void {
    if (this.#running) return;
    this.#triggered = true;
    this.#running = this.#run();
  }

  /**
   * Run a pass as soon as possible; never a second concurrent one. During a failure backoff a
   * trigger waits for the backoff to end, unless it is `urgent` (news that may fix the failure);
   * after a terminal failure there is no backoff, and any trigger runs a pass.
   */
  trigger(reason: string, options: { urgent?: boolean } = {}): void {
    if (this.#stopped) return;
    this.#options.logger.debug({ loop: this.#options.name, reason }, 'reconcile triggered');
    this.#triggered = true;
    if (this.#state.consecutiveFailures === 0 || options.urgent || this.#terminal) this.#wake?.();
  }

  /** Stops scheduling; a pass in flight finishes first (it has its own timeout) or, with abortOnStop, is aborted. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#options.abortOnStop) this.#stopping.abort(new Error('stopping'));
    this.#wake?.();
    await this.#running;
    this.#state = { ...this.#state, status: 'stopped' };
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (!this.#triggered) {
        await this.#sleep(undefined);
        continue;
      }
      this.#triggered = false;
      const next = await this.#pass();
      if (this.#stopped || next === undefined) continue;
      // A trigger during a pass that succeeded runs the next one now; after a failure the backoff holds.
      if (this.#triggered && this.#state.consecutiveFailures === 0) continue;
      await this.#sleep(next.afterMs);
      this.#triggered = true;
    }
  }

  /**
   * Runs one pass and says when the next one is due without a trigger: after `afterMs`, or
   * undefined for "when triggered".
   */
  async #pass(): Promise<{ afterMs: number } | undefined> {
    const started = this.#now();
    this.#state = { ...this.#state, status: 'running', runningSince: started };
    const log = this.#options.logger.child({ loop: this.#options.name, pass: this.#state.passes + 1 });
    let outcome: PassOutcome;
    let next: { afterMs: number } | undefined;
    try {
      const result = await withDeadline(this.#options.timeoutMs, this.#stopping.signal, this.#options.pass);
      outcome = { ok: true, seconds: (this.#now() - started) / 1000 };
      next = result ? { afterMs: result.requeueAfterMs } : undefined;
      this.#terminal = false;
      const { lastError: _cleared, runningSince: _done, ...rest } = this.#state;
      this.#state = { ...rest, status: 'idle', passes: rest.passes + 1, consecutiveFailures: 0, lastSuccessAt: this.#now() };
    } catch (error) {
      outcome = { ok: false, seconds: (this.#now() - started) / 1000, error };
      const { runningSince: _done, ...rest } = this.#state;
      this.#state = {
        ...rest,
        status: 'idle',
        passes: rest.passes + 1,
        consecutiveFailures: rest.consecutiveFailures + 1,
        lastError: error instanceof Error ? error.message : String(error),
      };
      // Terminal: no retry until something changes, which the loop learns as its next trigger (a schedule tick, a rack's request, a new secret).
      this.#terminal = error instanceof TerminalError;
      if (this.#terminal) {
        log.error({ err: error, consecutiveFailures: this.#state.consecutiveFailures, terminal: true }, 'reconcile pass failed');
      } else {
        log.warn({ err: error, consecutiveFailures: this.#state.consecutiveFailures }, 'reconcile pass failed');
        next = { afterMs: backoffDelay(this.#state.consecutiveFailures - 1, this.#options.backoff, this.#options.random) };
      }
    }
    this.#options.onPass?.(outcome);
    return next;
  }

  /** Sleeps for `ms` (forever when undefined) or until woken by trigger() or stop(). */
  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}

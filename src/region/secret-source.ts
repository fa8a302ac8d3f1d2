/**
 * Watches the region's shared-secret file. A value is published only when it is present, valid
 * hex and stable (the same on two reads a poll apart), so a half-written file is never served.
 * Polling, not fs.watch: Kubernetes volumes swap files by symlink and inotify misses that.
 */
import type { Logger } from 'pino';
import { HEX_SECRET } from '../protocol/v1.js';
import { FileReadError } from '../errors.js';
import { FILE_LIMITS, formatBytes, readBoundedFile } from '../util/read-file.js';

const VALID = new RegExp(HEX_SECRET);

export type SecretReading = { readonly ok: true; readonly secret: string } | { readonly ok: false; readonly problem: string };

export async function readSecretFile(path: string): Promise<SecretReading> {
  let text: string;
  try {
    text = await readBoundedFile(path, FILE_LIMITS.secret);
  } catch (err) {
    // Not a crash: this read fails, the poll logs it and the last stable secret stays published.
    const problem = err instanceof FileReadError ? err.problem : 'unreadable';
    if (problem === 'not-regular') return { ok: false, problem: 'not a regular file' };
    if (problem === 'too-large') return { ok: false, problem: `larger than the ${formatBytes(FILE_LIMITS.secret)} limit` };
    return { ok: false, problem };
  }
  const secret = text.trim().toLowerCase();
  if (secret === '') return { ok: false, problem: 'empty' };
  return VALID.test(secret) ? { ok: true, secret } : { ok: false, problem: 'not an even number (16 to 1024) of hex digits' };
}

export interface SecretSourceOptions {
  readonly path: string;
  readonly pollMs: number;
  readonly logger: Logger;
  /** Called with each new stable secret. */
  readonly onStable: (secret: string) => void;
}

export class SecretSource {
  #timer: NodeJS.Timeout | undefined;
  #candidate: string | undefined;
  #stable: string | undefined;
  #lastProblem: string | undefined;
  #stopped = false;

  constructor(private readonly options: SecretSourceOptions) {}

  get stable(): string | undefined {
    return this.#stable;
  }

  start(): void {
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #poll(): Promise<void> {
    const reading = await readSecretFile(this.options.path);
    if (this.#stopped) return;
    if (!reading.ok) {
      // Keep serving the last stable secret: a missing or torn file is not a rotation.
      if (this.#lastProblem !== reading.problem) this.options.logger.warn({ path: this.options.path, problem: reading.problem }, 'region secret file not usable');
      this.#lastProblem = reading.problem;
      this.#candidate = undefined;
    } else {
      this.#lastProblem = undefined;
      if (reading.secret === this.#candidate && reading.secret !== this.#stable) {
        this.#stable = reading.secret;
        this.options.onStable(reading.secret);
      }
      this.#candidate = reading.secret;
    }
    this.#timer = setTimeout(() => void this.#poll(), this.options.pollMs);
    this.#timer.unref();
  }
}

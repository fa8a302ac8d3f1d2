/**
 * Watches the region's shared-secret file. A value is published only when it is present, valid
 * hex and stable (the same on two reads, with no change noticed between them), so a half-written
 * file is never served.
 *
 * Changes are noticed at once through inotify (`fs.watch`) on the file and on its directory:
 * MAAS and the kubelet replace files by rename (a Kubernetes volume swaps its `..data` symlink),
 * which a watch on the old file alone would miss. A change is read after a short settle delay
 * and confirmed by a second read as long again after it. The poll stays as the fallback for
 * what inotify cannot see (network file systems, a directory that does not exist yet), and there
 * a value is confirmed a whole poll later, as before. The poll is a stat: the file is read when
 * its identity, size or times changed, a value awaits confirmation, or `FULL_READ_MS` passed (a
 * same-size rewrite within a coarse mtime tick), so an idle region does not read it twice a second.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
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

/** What tells one version of the file from another (a rename gives a new inode, a write a new mtime). */
async function signature(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return undefined;
  }
}

export interface SecretSourceOptions {
  readonly path: string;
  readonly pollMs: number;
  readonly logger: Logger;
  /** Called with each new stable secret. */
  readonly onStable: (secret: string) => void;
  /** How long a change must go quiet before it is read, and before the read that confirms it. */
  readonly settleMs?: number;
}

/** Enough for a writer's write() calls to land together; far below any poll interval. */
const SETTLE_MS = 25;
/** However unchanged the file looks to stat, it is read again this often. */
const FULL_READ_MS = 60_000;

export class SecretSource {
  #timer: NodeJS.Timeout | undefined;
  #candidate: string | undefined;
  #stable: string | undefined;
  #lastProblem: string | undefined;
  #stopped = false;
  #reading = false;
  #lastRead = 0;
  /** A change was noticed while a read was in flight: read again soon after it. */
  #changedWhileReading = false;
  /** The file's identity, size and times at the last read: an event that leaves them is no change (a read's own atime update). */
  #seen: string | undefined;
  #dirWatcher: FSWatcher | undefined;
  #fileWatcher: FSWatcher | undefined;
  readonly #settleMs: number;
  readonly #name: string;

  constructor(private readonly options: SecretSourceOptions) {
    this.#settleMs = options.settleMs ?? SETTLE_MS;
    this.#name = basename(options.path);
  }

  get stable(): string | undefined {
    return this.#stable;
  }

  /** Whether inotify watches the directory (else only the poll notices changes). */
  get watching(): boolean {
    return this.#dirWatcher !== undefined;
  }

  start(): void {
    this.#watch();
    void this.#read();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#dirWatcher?.close();
    this.#fileWatcher?.close();
    this.#dirWatcher = this.#fileWatcher = undefined;
  }

  /** (Re)arms the watchers that are missing; a path or directory that is not there yet is left to the poll. */
  #watch(): void {
    if (this.#stopped) return;
    this.#dirWatcher ??= this.#watchOne(
      dirname(this.options.path),
      (filename) => {
        // Only this file, or the `..data`-style entries an atomic writer swaps (a null name: unknown).
        if (filename === null || filename === this.#name || filename.startsWith('..')) this.#changed();
      },
      () => (this.#dirWatcher = undefined),
    );
    // The file's own watch follows its inode (or a symlink's target, where the directory sees
    // nothing): after a rename it watches the old file, so it is re-armed after every read.
    this.#fileWatcher ??= this.#watchOne(
      this.options.path,
      () => this.#changed(),
      () => (this.#fileWatcher = undefined),
    );
  }

  #watchOne(path: string, onEvent: (filename: string | null) => void, onGone: () => void): FSWatcher | undefined {
    let watcher: FSWatcher;
    try {
      watcher = watch(path, { persistent: false }, (_event, filename) => onEvent(filename === null ? null : String(filename)));
    } catch {
      return undefined;
    }
    watcher.on('error', () => {
      watcher.close();
      onGone();
    });
    return watcher;
  }

  /** A watch saw something: if the file is not what the last read saw, read once it has settled. */
  #changed(): void {
    void signature(this.options.path).then((now) => {
      if (this.#stopped || now === this.#seen) return;
      this.#changedNow();
    });
  }

  #changedNow(): void {
    if (this.#reading) {
      this.#changedWhileReading = true;
      return;
    }
    // A change resets the candidate: the next read starts a new pair of equal reads.
    this.#candidate = undefined;
    this.#schedule(this.#settleMs);
  }

  #schedule(ms: number, then: () => Promise<void> = () => this.#read()): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void then(), ms);
    this.#timer.unref();
  }

  /** The poll: reads only when the file may hold something the last read did not see. */
  async #poll(): Promise<void> {
    const armed = this.#timer;
    const now = await signature(this.options.path);
    // A watch event scheduled a read while this stat was out: re-arming the poll now would clear
    // it, and the change would wait for the next poll. That read re-arms the poll after itself.
    if (this.#stopped || this.#reading || this.#timer !== armed) return;
    const settled = this.#candidate === this.#stable && Date.now() - this.#lastRead < FULL_READ_MS;
    if (now !== undefined && now === this.#seen && settled) {
      this.#watch();
      this.#schedule(this.options.pollMs, () => this.#poll());
      return;
    }
    await this.#read();
  }

  async #read(): Promise<void> {
    this.#reading = true;
    this.#lastRead = Date.now();
    this.#changedWhileReading = false;
    this.#seen = await signature(this.options.path);
    const reading = await readSecretFile(this.options.path);
    this.#reading = false;
    if (this.#stopped) return;
    if (this.#changedWhileReading) {
      // The file changed under this read: it proves nothing; read again once it settles.
      this.#candidate = undefined;
      this.#schedule(this.#settleMs);
      return;
    }
    let unconfirmed = false;
    if (!reading.ok) {
      // Keep serving the last stable secret: a missing or torn file is not a rotation.
      if (this.#lastProblem !== reading.problem)
        this.options.logger.warn({ path: this.options.path, problem: reading.problem }, 'region secret file not usable');
      this.#lastProblem = reading.problem;
      this.#candidate = undefined;
    } else {
      this.#lastProblem = undefined;
      if (reading.secret === this.#candidate && reading.secret !== this.#stable) {
        this.#stable = reading.secret;
        this.options.onStable(reading.secret);
      }
      unconfirmed = reading.secret !== this.#stable;
      this.#candidate = reading.secret;
    }
    // A rename left the file watcher on the old inode, or the file or directory has just appeared.
    this.#fileWatcher?.close();
    this.#fileWatcher = undefined;
    this.#watch();
    // With inotify watching, a quiet settle delay is as good as a poll: any write in between
    // would have been seen. Without it, confirm a poll later, as before.
    if (!unconfirmed) this.#schedule(this.options.pollMs, () => this.#poll());
    else this.#schedule(this.watching ? this.#settleMs : this.options.pollMs);
  }
}

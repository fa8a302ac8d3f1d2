/**
 * One upstream read shared by every request that asks while it runs (single flight), and its
 * outcome, success or failure, kept for `ttlMs` after it settles: N concurrent requests cost one
 * call, and a sick upstream is asked at most once per window. One entry, replaced when the key
 * changes or it expires, so it is bounded in size and in time.
 */

export interface SharedReadOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
}

interface Entry<K, T> {
  readonly key: K;
  promise: Promise<T>;
  /** When the read settled; undefined while it runs. */
  settledAt: number | undefined;
}

export class SharedRead<K, T> {
  #entry: Entry<K, T> | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: SharedReadOptions) {
    if (!(options.ttlMs >= 0)) throw new TypeError('SharedRead: ttlMs must be >= 0');
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** The read in flight or still fresh for `key`, else a new one started with `read`. */
  get(key: K, read: () => Promise<T>): Promise<T> {
    const entry = this.#entry;
    if (entry !== undefined && entry.key === key && (entry.settledAt === undefined || this.#now() - entry.settledAt < this.#ttlMs)) return entry.promise;
    const fresh: Entry<K, T> = { key, promise: Promise.resolve() as Promise<never>, settledAt: undefined };
    const settle = (): void => {
      fresh.settledAt = this.#now();
    };
    fresh.promise = new Promise<T>((resolve) => resolve(read())).then(
      (value) => {
        settle();
        return value;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
    this.#entry = fresh;
    return fresh.promise;
  }
}

/**
 * Tells the demo's story in causal order. Each process's lines arrive on their own pipe, so a
 * line can arrive before what caused it has been told (the region names a rack as DHCP primary
 * before that rack's own "registered" line is read). Each line therefore says what must have been
 * told first (facts, and racks by system_id that must have a host name and have been announced);
 * a line waits, with every later line from the same source, until then. A line that waits longer
 * than `holdMs` is told anyway, so nothing is ever lost; the hold is long because a loaded machine
 * can take seconds between MAAS knowing a rack and that rack's sidecar saying so, and the demo's
 * summary drains the story anyway. Lines settle for `settleMs` first, so
 * those that happened earlier on another pipe are told before them, and times mostly run forward.
 */

export interface StoryLine {
  /** Whose line: 'MAAS', 'region', 'rack-1'…; lines from one source keep their order. */
  readonly who: string;
  /** When it happened (epoch ms). */
  readonly at: number;
  /** The sentence, rendered when told, with racks named by host name. */
  readonly text: (rack: (systemId: string) => string) => string;
  /** Facts that must have been told first (e.g. 'secret published'). */
  readonly after?: readonly string[];
  /** System ids the sentence names: each must have a host name, announced first. */
  readonly racks?: readonly string[];
  /** Facts this line tells (e.g. 'announced rack-1'). */
  readonly tells?: readonly string[];
}

export interface NarratorOptions {
  readonly say: (line: string) => void;
  /** Time zero of the elapsed times shown (epoch ms). */
  readonly startedAt: number;
  /** How long a line may wait for what it depends on. */
  readonly holdMs?: number;
  /**
   * How long after it happened a line is told, so that lines from other sources that happened
   * earlier but arrive a little later (pipes are read in turn) are told before it.
   */
  readonly settleMs?: number;
  /** Asked for host names when a line names a rack the narrator cannot name yet. */
  readonly lookupRacks?: () => Promise<readonly { systemId: string; hostname: string }[]>;
  readonly now?: () => number;
}

interface Queued {
  readonly line: StoryLine;
  readonly queuedAt: number;
}

/** How often racks the narrator cannot name are looked up while a line waits for them. */
const LOOKUP_EVERY_MS = 250;

export const announced = (hostname: string): string => `announced ${hostname}`;

export class Narrator {
  readonly #options: NarratorOptions;
  readonly #queues = new Map<string, Queued[]>();
  readonly #told = new Set<string>();
  readonly #hostnames = new Map<string, string>();
  readonly #now: () => number;
  readonly #holdMs: number;
  readonly #settleMs: number;
  readonly #whoWidth: number;
  #timer: NodeJS.Timeout | undefined;
  #lookingUp = false;
  #lastLookup = -Infinity;
  #closed = false;

  constructor(options: NarratorOptions & { readonly sources: readonly string[] }) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#holdMs = options.holdMs ?? 30_000;
    this.#settleMs = options.settleMs ?? 300;
    this.#whoWidth = Math.max(...options.sources.map((s) => s.length));
  }

  /** The host name of a system_id, once known (from a rack's own line or the lookup). */
  learnRack(systemId: string, hostname: string): void {
    this.#hostnames.set(systemId, hostname);
    this.flush();
  }

  tell(line: StoryLine): void {
    if (this.#closed) return;
    const queue = this.#queues.get(line.who) ?? [];
    queue.push({ line, queuedAt: this.#now() });
    this.#queues.set(line.who, queue);
    this.flush();
  }

  /** A line outside the timed story (a heading, a summary), told once everything before it is. */
  say(text: string): void {
    if (this.#closed) return;
    this.drain();
    this.#options.say(text);
  }

  /** Tells every line that may be told, oldest first; lines still waiting get a timer. */
  flush(): void {
    for (;;) {
      const next = this.#next('ready');
      if (!next) break;
      this.#tellNow(next);
    }
    this.#schedule();
  }

  /**
   * Tells everything queued (before a summary, or when the story ends): without waiting for lines
   * to settle, still in causal order where what a line waits for is queued too.
   */
  drain(): void {
    for (;;) {
      const next = this.#next('causal') ?? this.#next('any');
      if (!next) break;
      this.#tellNow(next);
    }
    this.#schedule();
  }

  /** Tells nothing more (the demo is stopping). */
  close(): void {
    this.#closed = true;
    this.#queues.clear();
    clearTimeout(this.#timer);
  }

  /** A rack's host name; never its system_id, even when the narrator cannot name it. */
  readonly rackName = (systemId: string): string => this.#hostnames.get(systemId) ?? 'a rack the demo did not start';

  /**
   * May the line be told: 'ready' once it has settled and what it waits for is told (or its hold
   * ran out); 'causal' once what it waits for is told; 'any' now.
   */
  #may({ line, queuedAt }: Queued, mode: 'ready' | 'causal' | 'any'): boolean {
    if (mode === 'any') return true;
    if (mode === 'ready') {
      if (this.#now() - queuedAt >= this.#holdMs) return true;
      if (this.#now() < line.at + this.#settleMs) return false;
    }
    if (!(line.after ?? []).every((fact) => this.#told.has(fact))) return false;
    return (line.racks ?? []).every((id) => {
      const hostname = this.#hostnames.get(id);
      return hostname !== undefined && this.#told.has(announced(hostname));
    });
  }

  /** The head, among the sources' heads that may be told, that happened first. */
  #next(mode: 'ready' | 'causal' | 'any'): { who: string; queued: Queued } | undefined {
    let best: { who: string; queued: Queued } | undefined;
    for (const [who, queue] of this.#queues) {
      const head = queue[0];
      if (!head || !this.#may(head, mode)) continue;
      if (!best || head.line.at < best.queued.line.at) best = { who, queued: head };
    }
    return best;
  }

  #tellNow({ who, queued }: { who: string; queued: Queued }): void {
    this.#queues.get(who)?.shift();
    const { line } = queued;
    for (const fact of line.tells ?? []) this.#told.add(fact);
    const seconds = `${(Math.max(0, line.at - this.#options.startedAt) / 1000).toFixed(1)} s`.padStart(7);
    this.#options.say(`${seconds}  ${line.who.padEnd(this.#whoWidth)}  ${line.text(this.rackName)}`);
  }

  /** Wakes up when the oldest waiting line runs out of patience; looks up racks it cannot name. */
  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = [...this.#queues.values()].flatMap((q) => q.slice(0, 1));
    if (waiting.length === 0 || this.#closed) return;
    const now = this.#now();
    // A head wakes the narrator when it has settled, or when it has waited long enough.
    let wake = Math.min(...waiting.map((q) => Math.min(q.queuedAt + this.#holdMs, now < q.line.at + this.#settleMs ? q.line.at + this.#settleMs : Infinity)));
    const unknown = waiting.some((q) => (q.line.racks ?? []).some((id) => !this.#hostnames.has(id)));
    if (unknown && this.#options.lookupRacks) {
      if (!this.#lookingUp && now - this.#lastLookup >= LOOKUP_EVERY_MS) void this.#lookup(this.#options.lookupRacks);
      else wake = Math.min(wake, this.#lastLookup + LOOKUP_EVERY_MS);
    }
    this.#timer = setTimeout(() => this.flush(), Math.max(0, wake - now));
    this.#timer.unref();
  }

  async #lookup(lookupRacks: NonNullable<NarratorOptions['lookupRacks']>): Promise<void> {
    this.#lookingUp = true;
    this.#lastLookup = this.#now();
    try {
      for (const { systemId, hostname } of await lookupRacks()) this.#hostnames.set(systemId, hostname);
    } catch {
      // The rack's own line names it soon enough; failing that, the hold runs out.
    } finally {
      this.#lookingUp = false;
    }
    if (!this.#closed) this.flush();
  }
}

/** Fault injection for the simulated MAAS API, switched at run time through /_sim/faults. */
import Type, { type Static } from 'typebox';

const Share = Type.Number({ minimum: 0, maximum: 1 });
const Count = Type.Integer({ minimum: 0, maximum: 1_000_000 });

export const FaultsSchema = Type.Object(
  {
    /** Added before every MAAS API answer. */
    latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    /** A share of answers, and/or the next N answers, are `errorStatus` (default 503). */
    errorRate: Type.Optional(Share),
    errorCount: Type.Optional(Count),
    errorStatus: Type.Optional(Type.Integer({ minimum: 429, maximum: 599 })),
    /** Connections closed without an answer. */
    dropRate: Type.Optional(Share),
    dropCount: Type.Optional(Count),
    /** 2xx JSON bodies cut in half. */
    malformedRate: Type.Optional(Share),
    malformedCount: Type.Optional(Count),
    /** The region is starting: every /MAAS/ request answers 503. */
    notReady: Type.Optional(Type.Boolean()),
    /** Limit the faults above to requests whose "METHOD /path?query" contains this text. */
    match: Type.Optional(Type.String({ maxLength: 200 })),
    /** The next N `maas-rack register` runs fail (exit 1) or hang. */
    registerFailures: Type.Optional(Count),
    registerHangs: Type.Optional(Count),
  },
  { additionalProperties: false },
);
export type Faults = Static<typeof FaultsSchema>;

export type FaultKind = 'error' | 'drop' | 'malformed';

export class FaultState {
  current: Faults = {};

  constructor(private readonly random: () => number = Math.random) {}

  set(faults: Faults): void {
    this.current = { ...faults };
  }

  applies(request: string): boolean {
    return this.current.match === undefined || request.includes(this.current.match);
  }

  /** Whether this request gets fault `kind`; a count is used up before the rate is consulted. */
  take(kind: FaultKind): boolean {
    const countKey = `${kind}Count` as const;
    const count = this.current[countKey] ?? 0;
    if (count > 0) {
      this.current[countKey] = count - 1;
      return true;
    }
    const rate = this.current[`${kind}Rate`] ?? 0;
    return rate > 0 && this.random() < rate;
  }

  /** What the next `maas-rack register` should do. */
  takeRegisterOutcome(): 'ok' | 'fail' | 'hang' {
    if ((this.current.registerHangs ?? 0) > 0) {
      this.current.registerHangs = (this.current.registerHangs ?? 1) - 1;
      return 'hang';
    }
    if ((this.current.registerFailures ?? 0) > 0) {
      this.current.registerFailures = (this.current.registerFailures ?? 1) - 1;
      return 'fail';
    }
    return 'ok';
  }
}

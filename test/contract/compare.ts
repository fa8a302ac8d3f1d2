/**
 * What two answers to the same request must share: status, media type, the error body (field →
 * messages, or the text), and for JSON the key set and value types at every path (list items
 * merged), plus the values a scenario lists. Backend ids are put back as refs before comparing.
 */
import type { Answer } from './backends.js';

export interface Difference {
  /** `status`, `content-type`, `body`, `shape <path>` or `value <path>`. */
  readonly what: string;
  readonly simulator: string;
  readonly real: string;
}

/**
 * Replaces every backend-specific value that is not a bare number (rack system ids, the token
 * secret) in `text` with its `{ref}`, and each `mask` match with `…`.
 */
export function unfill(text: string, refs: Readonly<Record<string, string>>, mask: readonly RegExp[] = []): string {
  let out = text;
  for (const [name, value] of Object.entries(refs)) {
    if (!/^\d+$/.test(value)) out = out.split(value).join(`{${name}}`);
  }
  for (const pattern of mask) out = out.replace(new RegExp(pattern.source, 'g'), '…');
  return out;
}

function parse(answer: Answer, refs: Readonly<Record<string, string>>, mask: readonly RegExp[]): unknown {
  try {
    return JSON.parse(unfill(answer.text, refs, mask));
  } catch {
    return undefined;
  }
}

const typeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** path → the set of value types seen there; list items share the path `…[]`. */
export function shapeOf(value: unknown, path = '', out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const seen = out.get(path) ?? new Set<string>();
  seen.add(typeOf(value));
  out.set(path, seen);
  if (Array.isArray(value)) for (const item of value) shapeOf(item, `${path}[]`, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) shapeOf(item, path ? `${path}.${key}` : key, out);
  }
  return out;
}

/** The values at `path` (`a.b`, `[].a`, `a[].b`; '' is the whole value), in order. */
export function valuesAt(value: unknown, path: string): unknown[] {
  if (path === '') return [value];
  const match = /^(\[\]|[^.[]+)(?:\.)?(.*)$/.exec(path);
  if (!match) return [];
  const [, head, rest = ''] = match;
  if (head === '[]') return Array.isArray(value) ? value.flatMap((item) => valuesAt(item, rest)) : [];
  const key = head as string;
  if (key.endsWith('[]')) {
    const inner = (value as Record<string, unknown> | null)?.[key.slice(0, -2)];
    return Array.isArray(inner) ? inner.flatMap((item) => valuesAt(item, rest)) : [];
  }
  if (value === null || typeof value !== 'object' || !(key in value)) return [];
  return valuesAt((value as Record<string, unknown>)[key], rest);
}

const mediaType = (answer: Answer) => answer.contentType.split(';')[0]?.trim() ?? '';
const show = (types: Set<string> | undefined) => (types ? [...types].sort().join('|') : '(absent)');

export function compare(
  sim: Answer,
  simRefs: Readonly<Record<string, string>>,
  real: Answer,
  realRefs: Readonly<Record<string, string>>,
  values: readonly string[] = [],
  mask: readonly RegExp[] = [],
): Difference[] {
  const diffs: Difference[] = [];
  const add = (what: string, s: unknown, r: unknown) => diffs.push({ what, simulator: format(s), real: format(r) });
  if (sim.status !== real.status) add('status', sim.status, real.status);
  if (sim.status !== 204 && real.status !== 204 && mediaType(sim) !== mediaType(real)) add('content-type', mediaType(sim), mediaType(real));
  const simJson = parse(sim, simRefs, mask);
  const realJson = parse(real, realRefs, mask);
  const ok = sim.status < 300 && real.status < 300;
  if (!ok) {
    const simBody = simJson ?? unfill(sim.text, simRefs, mask);
    const realBody = realJson ?? unfill(real.text, realRefs, mask);
    if (format(simBody) !== format(realBody)) add('body', simBody, realBody);
    return diffs;
  }
  if (simJson === undefined || realJson === undefined) {
    if (unfill(sim.text, simRefs, mask) !== unfill(real.text, realRefs, mask)) add('body', sim.text, real.text);
    return diffs;
  }
  const simShape = shapeOf(simJson);
  const realShape = shapeOf(realJson);
  for (const path of [...new Set([...simShape.keys(), ...realShape.keys()])].sort()) {
    const s = show(simShape.get(path));
    const r = show(realShape.get(path));
    if (s !== r) diffs.push({ what: `shape ${path || '(root)'}`, simulator: s, real: r });
  }
  // Values are compared as multisets: list order (services, racks) follows database order in MAAS.
  for (const path of values) {
    const s = valuesAt(simJson, path).map(format).sort();
    const r = valuesAt(realJson, path).map(format).sort();
    if (format(s) !== format(r)) add(`value ${path || '(root)'}`, s, r);
  }
  return diffs;
}

/** JSON with object keys sorted, so key order (which differs between MAAS processes) never matters. */
function format(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

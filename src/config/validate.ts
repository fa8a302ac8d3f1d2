/** Configuration problems in plain English: what a schema accepts, and what was given. */

type Schema = Readonly<Record<string, unknown>>;

/**
 * The schema option this project adds: `rule` says in words what a `pattern` allows (a message
 * never shows a regular expression). Secrets never come as variable values (only as file paths),
 * so values are shown; a URL's credentials are kept out by urlVar.
 */
export interface RuleOptions {
  readonly rule?: string;
}

/** A value as a message shows it: strings quoted and cut short, lists and mappings by kind. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** ` (got "x")`. */
export function gotText(value: unknown): string {
  return ` (got ${shown(value)})`;
}

const s = (n: number) => (n === 1 ? '' : 's');

/** "a whole number from 1 to 60", "a string", "a list of at most 64 items", …: what `schema` accepts. */
function noun(schema: Schema): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(noun).join(' or ');
  if ('const' in schema) return JSON.stringify(schema.const);
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  switch (schema.type) {
    case 'integer':
      return `a whole number${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'boolean (true or false)';
    case 'string': {
      const minLength = schema.minLength as number | undefined;
      const maxLength = schema.maxLength as number | undefined;
      if (minLength !== undefined && maxLength !== undefined) return `a string of ${minLength} to ${maxLength} characters`;
      if (maxLength !== undefined) return `a string of at most ${maxLength} character${s(maxLength)}`;
      if (minLength !== undefined) return `a string of at least ${minLength} character${s(minLength)}`;
      return 'a string';
    }
    case 'array': {
      const items = schema.items as Schema | undefined;
      const of = items?.type === 'string' ? ' of strings' : items?.type === 'object' ? ' of mappings' : '';
      const maxItems = schema.maxItems as number | undefined;
      return `a list${of}${maxItems === undefined ? '' : ` of at most ${maxItems} item${s(maxItems)}`}`;
    }
    case 'object':
      return 'a mapping';
    default:
      return 'valid';
  }
}

/** The whole rule of `schema` in words, e.g. "must be one of: direct, nsenter". */
export function describeRule(schema: unknown): string {
  const sch = schema as Schema;
  if (typeof sch.rule === 'string') return sch.rule;
  const options = Array.isArray(sch.anyOf) ? (sch.anyOf as Schema[]) : undefined;
  if (options && options.every((o) => 'const' in o)) return `must be one of: ${options.map((o) => String(o.const)).join(', ')}`;
  if (typeof sch.pattern === 'string') return `must match the regular expression ${sch.pattern}`;
  return `must be ${noun(sch)}`;
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** One TypeBox check that reports every problem at once, each naming where it is. */
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import { ConfigError } from '../errors.js';

/**
 * Applies defaults, converts strings where the schema asks for numbers or booleans, and checks.
 * `name` maps a value path like `/subnets/0/cidr` to what the user wrote (an env var, a YAML path).
 */
export function parseWithSchema<S extends TSchema>(schema: S, input: unknown, name: (path: string) => string): Static<S> {
  const withDefaults = Value.Default(schema, Value.Clone(input));
  const converted = Value.Convert(schema, withDefaults);
  const problems = [...Value.Errors(schema, converted)]
    .filter((e) => !['anyOf', 'oneOf', 'boolean'].includes(e.keyword))
    .map((e) => {
      const missing = e.keyword === 'required' ? (e.params as { requiredProperties?: string[] }).requiredProperties : undefined;
      if (missing) return missing.map((p) => `${name(`${e.instancePath}/${p}`)} is required`).join('; ');
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? [];
        return extra.map((p) => `${name(`${e.instancePath}/${p}`)} is not a known setting`).join('; ');
      }
      return `${name(e.instancePath)} ${e.message}`;
    });
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return converted as Static<S>;
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

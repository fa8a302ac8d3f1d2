/**
 * JSON Schema checks compiled by ajv, for the sidecars' runtime checks (the HTTP layer's, the rack's
 * of the region's answers). TypeBox schemas are JSON Schema, and fastify loads ajv anyway (through
 * @fastify/ajv-compiler); TypeBox's own checker (typebox/compile, typebox/value) is some 300 more
 * module files and 6 MB in the rack. Errors come in TypeBox's shape and words (typeBoxErrors), which
 * the messages and the HTTP layer's error reasons were written against.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

// allErrors: every problem at once, as TypeBox reports them. strict off: TypeBox's own keywords
// and this project's (`rule`, setting help) are annotations, which strict mode refuses.
const ajv = new Ajv({ allErrors: true, strict: false });

/** One problem, in TypeBox's shape: `schemaPath` points at the schema, not at the keyword. */
export interface SchemaError {
  readonly keyword: string;
  readonly schemaPath: string;
  readonly instancePath: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message: string;
}

export interface SchemaCheck<T> {
  check(value: unknown): value is T;
  /** Why `value` fails (empty when it passes). */
  errors(value: unknown): SchemaError[];
}

/**
 * A check for `schema`, compiled on first use: modules declare every check they might make and a
 * process makes few of them (ajv caches by schema object, so compiling one again is free).
 */
export function compileSchema<T>(schema: object): SchemaCheck<T> {
  let compiled: ValidateFunction<T> | undefined;
  const validate = (value: unknown): boolean => (compiled ??= ajv.compile<T>(schema))(value);
  return {
    check: (value): value is T => validate(value),
    errors: (value) => (validate(value) ? [] : typeBoxErrors(compiled?.errors ?? [])),
  };
}

/** TypeBox stops at 8 errors (its `maxErrors` setting); "and N more" in messages counts to this. */
const TYPEBOX_MAX_ERRORS = 8;

/**
 * ajv's errors as TypeBox words them: one `required` (or `additionalProperties`) error per object
 * listing every name, the latter after a `boolean` error for each extra property at its own path
 * (what the HTTP layer names an unknown query parameter by), and "not" in lower case.
 */
function typeBoxErrors(errors: readonly ErrorObject[]): SchemaError[] {
  const out: SchemaError[] = [];
  const merged = new Map<string, { readonly names: string[]; readonly error: SchemaError }>();
  for (const e of errors) {
    const schemaPath = e.schemaPath.slice(0, e.schemaPath.lastIndexOf('/'));
    if (e.keyword !== 'required' && e.keyword !== 'additionalProperties') {
      out.push({ keyword: e.keyword, schemaPath, instancePath: e.instancePath, params: e.params, message: (e.message ?? '').replace('must NOT', 'must not') });
      continue;
    }
    const required = e.keyword === 'required';
    const name = String(required ? e.params.missingProperty : e.params.additionalProperty);
    const key = `${e.keyword} ${e.instancePath}`;
    let group = merged.get(key);
    if (!group) {
      const names: string[] = [];
      const params = required ? { requiredProperties: names } : { additionalProperties: names };
      group = { names, error: { keyword: e.keyword, schemaPath, instancePath: e.instancePath, params, message: '' } };
      merged.set(key, group);
      out.push(group.error);
    }
    group.names.push(name);
    if (!required)
      out.splice(out.indexOf(group.error), 0, {
        keyword: 'boolean',
        schemaPath: e.schemaPath,
        instancePath: `${e.instancePath}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        params: {},
        message: 'schema is false',
      });
  }
  return out
    .slice(0, TYPEBOX_MAX_ERRORS)
    .map((e) =>
      e.keyword === 'required'
        ? { ...e, message: `must have required properties ${(e.params.requiredProperties as string[]).join(', ')}` }
        : e.keyword === 'additionalProperties'
          ? { ...e, message: 'must not have additional properties' }
          : e,
    );
}

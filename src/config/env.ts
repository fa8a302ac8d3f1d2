/**
 * Reading configuration from the environment: the only place process.env is interpreted.
 * Each helper names the variable and the rule in its message; loaders collect every problem.
 */
import cron from 'node-cron';
import Type, { type Static, type TObject, type TSchema } from 'typebox';
import { describeRule, gotText, shown, type RuleOptions } from './validate.js';
import type { SettingOptions } from './help.js';
import { ApiKey } from '../maas/api-key.js';
import { FILE_LIMITS, readBoundedFile, readBoundedFileSync } from '../util/read-file.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects problems so a loader can report them all at once, and which variables had one. */
export class Problems {
  readonly list: string[] = [];
  readonly #variables = new Set<string>();

  /** `variable`: the one the problem is about, when there is one (see `has`). */
  add(problem: string, variable?: string): void {
    this.list.push(problem);
    if (variable !== undefined) this.#variables.add(variable);
  }

  /** Whether a problem about `variable` was already reported (so it is not reported twice). */
  has(variable: string): boolean {
    return this.#variables.has(variable);
  }

  /** `parse(value)` when the variable is set, else a "required" problem; undefined after any problem. */
  required<T>(variable: string, value: string | undefined, why: string, parse: (value: string) => T): T | undefined {
    if (value === undefined) {
      if (!this.has(variable)) this.add(`${variable} is required (${why})`, variable);
      return undefined;
    }
    return this.try(() => parse(value), variable);
  }

  /** Runs `fn`; a thrown message becomes a problem and the result undefined. */
  try<T>(fn: () => T, variable?: string): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.add((err as Error).message, variable);
      return undefined;
    }
  }
}

/** A whole-number variable: decimal digits only, within [minimum, maximum] (both required: a range is documented). */
export function IntegerVar(options: { default?: number; minimum: number; maximum: number } & RuleOptions & SettingOptions) {
  return Type.Integer({ ...options });
}

const INVALID = Symbol('invalid');

/**
 * The typed value of one variable, strictly: an integer is decimal digits (a sign only where the
 * minimum is negative), never hex, an exponent, a fraction, blanks or "true"; a boolean is
 * "true" or "false". Anything else stays the string it is, for the schema to check.
 */
function typed(schema: TSchema, raw: string): unknown {
  if (Type.IsInteger(schema)) {
    const signed = ((schema as { minimum?: number }).minimum ?? 0) < 0;
    return (signed ? /^-?[0-9]{1,15}$/ : /^[0-9]{1,15}$/).test(raw) ? Number(raw) : INVALID;
  }
  if (Type.IsNumber(schema)) throw new Error('environment variables hold whole numbers only: use IntegerVar');
  if (Type.IsBoolean(schema)) return raw === 'true' ? true : raw === 'false' ? false : INVALID;
  return raw;
}

/** The keywords a variable's schema may use, annotations included (see `meets`). */
const VARIABLE_KEYWORDS = new Set(['type', 'pattern', 'minimum', 'maximum', 'anyOf', 'const', 'default', 'description', 'rule', 'defaultText']);

/**
 * Whether a typed value meets its variable's schema, checked as TypeBox's Value.Check does
 * (patterns with the `u` flag). Variables use a handful of keywords, and checking them here spares
 * every sidecar a validator: typebox/value is some 300 module files, and ajv would compile each
 * variable's schema (5 ms apiece). Any other keyword is a mistake in a schema, thrown at once.
 */
function meets(schema: Readonly<Record<string, unknown>>, value: unknown): boolean {
  const unsupported = Object.keys(schema).find((key) => !VARIABLE_KEYWORDS.has(key));
  if (unsupported !== undefined) throw new Error(`an environment variable's schema cannot use "${unsupported}"`);
  const { type, pattern, minimum, maximum, anyOf } = schema;
  if (Array.isArray(anyOf) && !anyOf.some((branch: Readonly<Record<string, unknown>>) => meets(branch, value))) return false;
  if (type === 'integer' && !Number.isInteger(value)) return false;
  if (type === 'string' && typeof value !== 'string') return false;
  if (type === 'boolean' && typeof value !== 'boolean') return false;
  if (type !== undefined && !['integer', 'string', 'boolean'].includes(type as string))
    throw new Error(`an environment variable cannot be of type ${String(type)}`);
  if ('const' in schema && value !== schema.const) return false;
  if (typeof value === 'number' && ((typeof minimum === 'number' && value < minimum) || (typeof maximum === 'number' && value > maximum))) return false;
  return !(typeof value === 'string' && typeof pattern === 'string' && !new RegExp(pattern, 'u').test(value));
}

/**
 * The variables `schema` declares (every other variable is ignored), each parsed strictly and
 * checked against its schema; unset or empty means the default. Each problem goes to `problems`
 * as "NAME <rule in words> (got "value")", the value left out for a `secret` variable; a variable
 * with a problem gets its default (or stays unset), so the loader can go on and report the rest.
 */
export function parseEnv<S extends TObject>(schema: S, env: Env, problems: Problems): Static<S> {
  const vars: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const raw = env[name];
    const fallback = (property as { default?: unknown }).default;
    if (raw !== undefined && raw !== '') {
      const value = typed(property, raw);
      if (value !== INVALID && meets(property as object as Readonly<Record<string, unknown>>, value)) {
        vars[name] = value;
        continue;
      }
      problems.add(`${name} ${describeRule(property)}${gotText(raw)}`, name);
    } else if (fallback === undefined && !Type.IsOptional(property)) {
      problems.add(`${name} is required`, name);
    }
    if (fallback !== undefined) vars[name] = fallback;
  }
  return vars as Static<S>;
}

/**
 * The content of the file a variable (or flag) names: a regular file within `maxBytes`, else an
 * error naming the variable and the path (never the content). Every operator file is read here.
 */
export function fileVar(variable: string, path: string, maxBytes: number): string {
  try {
    return readBoundedFileSync(path, maxBytes);
  } catch (err) {
    throw new Error(`${variable}: ${(err as Error).message}`, { cause: err });
  }
}

/** The trimmed content of the file a variable names; the message names the variable, never the content. */
export function readSecretFileVar(variable: string, path: string, rule: { minLength: number }): string {
  const text = fileVar(variable, path, FILE_LIMITS.secret).trim();
  if (text.length < rule.minLength) throw new Error(`${variable}: ${path} must hold at least ${rule.minLength} characters`);
  if (/[\r\n]/.test(text)) throw new Error(`${variable}: ${path} must hold a single line`);
  return text;
}

/** The shortest sidecar token accepted. */
export const TOKEN_MIN_LENGTH = 16;

/**
 * The tokens of a sidecar token file: one line, or two (the current token and the next, while
 * rotating); blank lines and surrounding blanks are ignored. Messages never show a token.
 */
export function parseTokens(variable: string, path: string, text: string): readonly [string] | readonly [string, string] {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length === 0 || lines.length > 2)
    throw new Error(`${variable}: ${path} must hold one token, or two (one a line) while rotating (found ${lines.length} lines)`);
  for (const [i, line] of lines.entries()) {
    if (line.length < TOKEN_MIN_LENGTH) throw new Error(`${variable}: ${path} line ${i + 1} must hold at least ${TOKEN_MIN_LENGTH} characters`);
    if (/\s/.test(line)) throw new Error(`${variable}: ${path} line ${i + 1} must be one token without blanks`);
  }
  return lines as unknown as readonly [string] | readonly [string, string];
}

/** The tokens of the sidecar token file a variable names (see parseTokens). */
/** A token file's lines: the token in use, and the next one while rotating. */
export type TokenLines = readonly [string] | readonly [string, string];

export function tokenFileVar(variable: string, path: string): TokenLines {
  return parseTokens(variable, path, fileVar(variable, path, FILE_LIMITS.secret));
}

/** The same, while running (re-read when the file changes). */
export async function readTokenFile(variable: string, path: string): Promise<TokenLines> {
  const text = await readBoundedFile(path, FILE_LIMITS.secret).catch((err: unknown) => {
    throw new Error(`${variable}: ${(err as Error).message}`, { cause: err });
  });
  return parseTokens(variable, path, text);
}

/** An admin API key `ck:tk:ts` read from the file a variable (or flag) names; messages never show the key. */
export function apiKeyFileVar(variable: string, path: string): ApiKey {
  const text = readSecretFileVar(variable, path, { minLength: 5 });
  try {
    return ApiKey.parse(text);
  } catch (err) {
    throw new Error(`${variable}: ${path}: ${(err as Error).message}`);
  }
}

/** An http(s) URL without credentials; a value that may hold credentials (an "@") is never echoed. */
export function urlVar(variable: string, value: string): string {
  const got = value.includes('@') ? '' : ` (got ${shown(value)})`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${variable} must be an http(s) URL${got}`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.hostname === '') throw new Error(`${variable} must be an http(s) URL with a host${got}`);
  if (url.username || url.password) throw new Error(`${variable} must not carry credentials`);
  return value.replace(/\/+$/, '');
}

export function cronVar(variable: string, value: string): string {
  if (!cron.validate(value)) throw new Error(`${variable} must be a cron expression, e.g. "*/30 * * * * *" (got ${shown(value)})`);
  return value;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

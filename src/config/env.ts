/**
 * Reading configuration from the environment: the only place process.env is interpreted.
 * Each helper names the variable and the rule in its message; loaders collect every problem.
 */
import { readFileSync } from 'node:fs';
import cron from 'node-cron';
import type { TSchema, Static } from 'typebox';
import { parseWithSchema } from './validate.js';
import type { RunnerMode } from '../exec/runner.js';
import { ApiKey } from '../maas/api-key.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Validates the variables `schema` declares (ignoring every other variable), with defaults. */
export function parseEnv<S extends TSchema>(schema: S, env: Env): Static<S> {
  const known = Object.keys((schema as unknown as { properties: Record<string, unknown> }).properties);
  const picked = Object.fromEntries(known.flatMap((key) => (env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]])));
  return parseWithSchema(schema, picked, (path) => path.slice(1));
}

/** Collects problems so a loader can report them all at once. */
export class Problems {
  readonly list: string[] = [];

  add(problem: string): void {
    this.list.push(problem);
  }

  /** `parse(value)` when the variable is set, else a "required" problem; undefined after any problem. */
  required<T>(variable: string, value: string | undefined, why: string, parse: (value: string) => T): T | undefined {
    if (value === undefined) {
      this.add(`${variable} is required (${why})`);
      return undefined;
    }
    return this.try(() => parse(value));
  }

  /** Runs `fn`; a thrown message becomes a problem and the result undefined. */
  try<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.add((err as Error).message);
      return undefined;
    }
  }
}

/** The trimmed content of the file a variable names; the message names the variable, never the content. */
export function readSecretFileVar(variable: string, path: string, rule: { minLength: number }): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text.length < rule.minLength) throw new Error(`${variable}: ${path} must hold at least ${rule.minLength} characters`);
  if (/[\r\n]/.test(text)) throw new Error(`${variable}: ${path} must hold a single line`);
  return text;
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

export function urlVar(variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${variable} must be an http(s) URL (got "${value}")`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.hostname === '') throw new Error(`${variable} must be an http(s) URL with a host (got "${value}")`);
  if (url.username || url.password) throw new Error(`${variable} must not carry credentials`);
  return value.replace(/\/+$/, '');
}

export function cronVar(variable: string, value: string): string {
  if (!cron.validate(value)) throw new Error(`${variable} must be a cron expression, e.g. "*/30 * * * * *" (got "${value}")`);
  return value;
}

export function runnerModeVar(mode: 'direct' | 'nsenter', target: string | undefined): RunnerMode {
  if (mode === 'nsenter') {
    if (!target) throw new Error('COMMAND_NSENTER_TARGET is required when COMMAND_MODE is nsenter (a pid or a process name)');
    return { kind: 'nsenter', target };
  }
  return { kind: 'direct' };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

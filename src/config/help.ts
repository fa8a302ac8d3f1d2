/**
 * The settings as people read them, in `maas-sidecar region|rack --help` and README.md's tables,
 * both written from the environment schemas: each variable's schema is its one declaration (name,
 * rule, default) and carries its meaning as `description`. A default that is no value (another
 * variable, "the host name") is given in words as `defaultText`.
 */
import type { TObject, TSchema } from 'typebox';

/** The options a setting's schema carries besides its rule. */
export interface SettingOptions {
  readonly description: string;
  readonly defaultText?: string;
}

interface Shown {
  readonly name: string;
  /** The description, and the range of a whole number. */
  readonly meaning: string;
  readonly default: { readonly text: string; readonly value: boolean } | undefined;
}

type Declared = Partial<SettingOptions> & { type?: string; default?: unknown; minimum?: number; maximum?: number };

/** A setting's default as help shows it: its value, or the words that stand for one. */
function defaultOf(property: TSchema): Shown['default'] {
  const p = property as Declared;
  return p.default !== undefined ? { text: String(p.default), value: true } : p.defaultText === undefined ? undefined : { text: p.defaultText, value: false };
}

/** The default of one setting, for help texts written around it (status, plan). */
export function shownDefault(property: TSchema): string {
  const fallback = defaultOf(property);
  if (!fallback) throw new Error('this setting has no default to show');
  return fallback.text;
}

function shownSettings(schema: TObject): Shown[] {
  return Object.entries(schema.properties).map(([name, property]) => {
    const p = property as Declared;
    if (!p.description) throw new Error(`${name} has no description: every setting says what it is for`);
    const range = p.type === 'integer' ? `, ${p.minimum} to ${p.maximum}` : '';
    return { name, meaning: `${p.description}${range}`, default: defaultOf(property) };
  });
}

/** `[variable, meaning (default …)]` for each variable of `schema`, in its order. */
export function helpRows(schema: TObject): readonly (readonly [string, string])[] {
  return shownSettings(schema).map(({ name, meaning, default: fallback }) => {
    if (fallback === undefined) return [name, meaning];
    if (!fallback.value) return [name, `${meaning} (default: ${fallback.text})`];
    return [name, `${meaning} (default ${/\s/.test(fallback.text) ? JSON.stringify(fallback.text) : fallback.text})`];
  });
}

/** Variable names, set as code in Markdown. */
const VARIABLE = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(VARIABLE, '`$&`');

/** The Markdown table of `schema`'s variables: variable, meaning, default. */
export function settingsTable(schema: TObject): string {
  const rows = shownSettings(schema).map(({ name, meaning, default: fallback }) => {
    const shown = fallback === undefined ? '—' : fallback.value ? `\`${fallback.text}\`` : cell(fallback.text);
    return `| \`${name}\` | ${cell(meaning)} | ${shown} |`;
  });
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}

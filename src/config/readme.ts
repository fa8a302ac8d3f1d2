/**
 * README.md's tables of settings, written from the schemas by `npm run docs:settings` and held to
 * them by test/unit/settings-doc.test.ts.
 */
import type { TObject } from 'typebox';
import { settingsTable } from './help.js';
import { RackEnvSchema } from './rack.js';
import { RegionEnvSchema } from './region.js';

const TABLES: Readonly<Record<string, TObject>> = { region: RegionEnvSchema, rack: RackEnvSchema };

/** The markers around one table: what is between them is rewritten. */
export function markers(table: string): { readonly begin: string; readonly end: string } {
  return { begin: `<!-- ${table} settings: written by npm run docs:settings -->`, end: `<!-- end of ${table} settings -->` };
}

/** `readme` with each table between its markers made anew; a missing marker is an error. */
export function withSettingsTables(readme: string): string {
  let text = readme;
  for (const [table, schema] of Object.entries(TABLES)) {
    const { begin, end } = markers(table);
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md needs the markers ${begin} and ${end}, in that order`);
    text = `${text.slice(0, from + begin.length)}\n${settingsTable(schema)}\n${text.slice(to)}`;
  }
  return text;
}

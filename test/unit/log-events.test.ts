/**
 * Log event names live in src/protocol/events.ts alone: the demo (and log queries) follow them, so
 * a name typed by hand elsewhere, or one declared and never logged, would break that silently.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENTS } from '../../src/protocol/events.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

async function sources(): Promise<{ readonly file: string; readonly text: string }[]> {
  const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts') && f !== join('protocol', 'events.ts'));
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(SRC, file), 'utf8') })));
}

t.test('no source file names a log event by a literal', async (t) => {
  const literal = /\bevent:\s*['"`]/;
  const offenders = (await sources()).filter(({ text }) => literal.test(text)).map(({ file }) => file);
  t.same(offenders, [], 'every `event:` is an EVENTS.<key>');
});

t.test('every declared event is logged somewhere, under a name of its own', async (t) => {
  const all = (await sources()).map(({ text }) => text).join('\n');
  for (const key of Object.keys(EVENTS)) t.ok(new RegExp(`event: EVENTS\\.${key}\\b`).test(all), `EVENTS.${key} is logged`);
  const names = Object.values(EVENTS);
  t.equal(new Set(names).size, names.length, 'no two keys share a name');
});

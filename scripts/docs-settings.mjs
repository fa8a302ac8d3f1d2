// `npm run docs:settings`: rewrites README.md's tables of settings from the config schemas (through
// dist/, which the npm script builds first). test/unit/settings-doc.test.ts fails until it is run.
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTables } from '../dist/config/readme.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withSettingsTables(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md: the settings tables were up to date' : 'README.md: settings tables written');

/**
 * One source for every setting: each variable's schema (name, rule, default, meaning) writes
 * `maas-sidecar region|rack --help` and README.md's tables, and the loaders default to what they say.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Type, { type TObject, type TSchema } from 'typebox';
import { helpRows, settingsTable } from '../../src/config/help.js';
import { loadRackConfig, RackEnvSchema } from '../../src/config/rack.js';
import { markers, withSettingsTables } from '../../src/config/readme.js';
import { loadRegionConfig, RegionEnvSchema } from '../../src/config/region.js';
import { rackCommand } from '../../src/commands/rack.js';
import { regionCommand } from '../../src/commands/region.js';
import { planCommand } from '../../src/commands/plan.js';
import { statusCommand } from '../../src/commands/status.js';
import { SIDECAR_ENV } from '../../src/config/sidecar.js';
import { ConfigError } from '../../src/errors.js';
import { fileFixtures } from '../helpers/file-fixtures.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

const { file } = await fileFixtures(t, 'settings-doc-');
const token = await file('token', 'settings-doc-token-0123456789\n');
const password = await file('password', 'a-good-password\n');

type Env = Record<string, string>;
const REGION_BASE: Env = { SIDECAR_TOKEN_FILE: token, MAAS_ADMIN_PASSWORD_FILE: password };
const RACK_BASE: Env = { SIDECAR_TOKEN_FILE: token, REGION_SIDECAR_URL: 'http://region:8080' };
const SIDECARS = [
  { name: 'region', schema: RegionEnvSchema, help: regionCommand.help, load: loadRegionConfig, base: REGION_BASE },
  { name: 'rack', schema: RackEnvSchema, help: rackCommand.help, load: loadRackConfig, base: RACK_BASE },
] as const;

/** A loaded configuration, or the problems that stopped it. */
function outcome(load: (env: Env) => unknown, env: Env): unknown {
  try {
    return load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const properties = (schema: TObject) => Object.entries(schema.properties as Record<string, TSchema & { default?: unknown; defaultText?: string }>);

t.test("README.md's settings tables are what npm run docs:settings writes", async (t) => {
  t.equal(README, withSettingsTables(README), 'README.md is out of date: run npm run docs:settings');
});

t.test('every variable a sidecar reads is in its --help and its README table', async (t) => {
  for (const { name, schema, help } of SIDECARS) {
    const { begin, end } = markers(name);
    const table = README.slice(README.indexOf(begin), README.indexOf(end));
    for (const [variable] of properties(schema)) {
      t.match(help, new RegExp(`^ {2}${variable} +\\S`, 'm'), `${name} --help: ${variable}`);
      t.match(table, `| \`${variable}\` | `, `README ${name} table: ${variable}`);
    }
  }
});

/** What a default given in words means, as a value; `undefined`: no value stands for it. */
const IN_WORDS: Readonly<Record<string, string | undefined>> = {
  MAAS_PUBLIC_URL: (RegionEnvSchema.properties.MAAS_URL as { default?: string }).default,
  RACK_HOSTNAME: hostname().split('.')[0],
  SIDECAR_TLS_CERT_FILE: undefined,
};

t.test('the defaults --help and README show are what the loaders use', async (t) => {
  for (const { name, schema, load, base } of SIDECARS) {
    const unset = outcome(load, base);
    t.notOk(Array.isArray(unset), `${name}: loads with the defaults`);
    for (const [variable, property] of properties(schema)) {
      if (property.default === undefined && property.defaultText === undefined) continue;
      if (property.defaultText !== undefined) t.ok(variable in IN_WORDS, `${variable}: what "${property.defaultText}" stands for is known here`);
      const value = property.default === undefined ? IN_WORDS[variable] : String(property.default);
      if (value === undefined) continue;
      t.same(outcome(load, { ...base, [variable]: value }), unset, `${name}: ${variable}=${value} is the default`);
    }
  }
  t.equal((outcome(loadRegionConfig, REGION_BASE) as { tls: unknown }).tls, undefined, 'without SIDECAR_TLS_CERT_FILE: plain HTTP');
});

t.test('a row: the meaning, the range of a whole number, the default as a value or in words', async (t) => {
  const schema = Type.Object({
    WAIT: Type.Integer({ minimum: 1, maximum: 60, default: 30, description: 'how long to wait' }),
    SCHEDULE: Type.String({ default: '*/5 * * * * *', description: 'when' }),
    FORMAT: Type.String({ defaultText: 'what FORMAT_FILE says', description: 'json | pretty' }),
    NAME: Type.Optional(Type.String({ description: 'a name' })),
  });
  t.same(helpRows(schema), [
    ['WAIT', 'how long to wait, 1 to 60 (default 30)'],
    ['SCHEDULE', 'when (default "*/5 * * * * *")'],
    ['FORMAT', 'json | pretty (default: what FORMAT_FILE says)'],
    ['NAME', 'a name'],
  ]);
  t.equal(
    settingsTable(schema),
    [
      '| variable | meaning | default |',
      '|---|---|---|',
      '| `WAIT` | how long to wait, 1 to 60 | `30` |',
      '| `SCHEDULE` | when | `*/5 * * * * *` |',
      '| `FORMAT` | json \\| pretty | what `FORMAT_FILE` says |',
      '| `NAME` | a name | — |',
    ].join('\n'),
  );
  t.throws(() => helpRows(Type.Object({ QUIET: Type.String() })), { message: 'QUIET has no description: every setting says what it is for' });
});

t.test('status and plan help show the declared defaults of the settings they fall back to', async (t) => {
  const flat = (text: string) => text.replace(/\s+/g, ' ');
  const declared = (schema: TSchema) => String((schema as { default?: unknown }).default);
  t.match(flat(statusCommand.help), `SIDECAR_LISTEN_HOST (default ${declared(SIDECAR_ENV.SIDECAR_LISTEN_HOST)})`);
  t.match(flat(statusCommand.help), `SIDECAR_LISTEN_PORT (default ${declared(SIDECAR_ENV.SIDECAR_LISTEN_PORT)})`);
  t.match(flat(planCommand.help), `the default is MAAS_URL, else ${declared(RegionEnvSchema.properties.MAAS_URL)}`);
  t.match(flat(planCommand.help), `default MAAS_ADMIN_USERNAME, else ${declared(RegionEnvSchema.properties.MAAS_ADMIN_USERNAME)}`);
});

/**
 * Configuration from the environment: strict numbers, every problem at once in plain English, the
 * listen host checked before anything starts, and every operator file read bounded and never blocking.
 */
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Type, { type TSchema } from 'typebox';
import { parseEnv, Problems, urlVar } from '../../src/config/env.js';
import { loadRackConfig, RACK_ENV_HELP, RackEnvSchema } from '../../src/config/rack.js';
import { loadRegionConfig, REGION_ENV_HELP, RegionEnvSchema } from '../../src/config/region.js';
import { checkListenHost } from '../../src/config/sidecar.js';
import { planCommand } from '../../src/commands/plan.js';
import { readLocalRegistration } from '../../src/rack/local-registration.js';
import { readSecretFile, SecretSource } from '../../src/region/secret-source.js';
import { FILE_LIMITS, readBoundedFile, readBoundedFileSync } from '../../src/util/read-file.js';
import { fileFixtures } from '../helpers/file-fixtures.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { problemsOf } from '../helpers/config-problems.js';

const { dir, file, sparse, fifo } = await fileFixtures(t, 'config-');
const TOKEN = 'config-token-0123456789';
const token = await file('token', `${TOKEN}\n`);
const password = await file('password', 'a-good-password\n');
const REGION_OK = { SIDECAR_TOKEN_FILE: token, MAAS_ADMIN_PASSWORD_FILE: password };
const RACK_OK = { SIDECAR_TOKEN_FILE: token, REGION_SIDECAR_URL: 'http://region:8080', RACK_HOSTNAME: 'rack-a' };

const region = (env: Record<string, string>) => problemsOf(() => loadRegionConfig({ ...REGION_OK, ...env }));
const rack = (env: Record<string, string>) => problemsOf(() => loadRackConfig({ ...RACK_OK, ...env }));

t.test('whole numbers are decimal digits within the documented range, never coerced', async (t) => {
  const port = (got: string) => `SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 (got ${JSON.stringify(got)})`;
  for (const value of [
    'true',
    'false',
    '0x1F90',
    '18089.9',
    '8e3',
    '1e3',
    ' 8080',
    '8080 ',
    '\t8080',
    '+8080',
    '-1',
    '0',
    '65536',
    '0b11',
    '0o17',
    'Infinity',
    'NaN',
    '8_080',
    '８０８０',
    '99999999999999999999',
  ]) {
    t.same(rack({ SIDECAR_LISTEN_PORT: value }), [port(value)], JSON.stringify(value));
  }
  t.same(region({ MAAS_TIMEOUT_SECONDS: 'true' }), ['MAAS_TIMEOUT_SECONDS must be a whole number from 1 to 600 (got "true")']);
  t.same(rack({ REREGISTER_GRACE_SECONDS: '1.99' }), ['REREGISTER_GRACE_SECONDS must be a whole number from 0 to 3600 (got "1.99")']);
  t.same(rack({ REREGISTER_GRACE_SECONDS: '-5' }), ['REREGISTER_GRACE_SECONDS must be a whole number from 0 to 3600 (got "-5")']);

  t.equal(loadRackConfig({ ...RACK_OK, SIDECAR_LISTEN_PORT: '18089' }).listen.port, 18089);
  t.equal(loadRackConfig({ ...RACK_OK, REREGISTER_GRACE_SECONDS: '0' }).graceMs, 0);
  t.equal(loadRegionConfig({ ...REGION_OK, MAAS_TIMEOUT_SECONDS: '600' }).maasTimeoutMs, 600_000);
  t.equal(loadRackConfig({ ...RACK_OK, SIDECAR_LISTEN_PORT: '' }).listen.port, 8080, 'empty means the default');
});

t.test('a negative number is allowed only where the range includes it', async (t) => {
  const schema = Type.Object({ OFFSET: Type.Integer({ minimum: -10, maximum: 10 }), FLAG: Type.Boolean({ default: false }) });
  const problems = new Problems();
  t.same(parseEnv(schema, { OFFSET: '-3', FLAG: 'true' }, problems), { OFFSET: -3, FLAG: true });
  parseEnv(schema, { OFFSET: '-0x3', FLAG: '1' }, problems);
  t.same(problems.list, ['OFFSET must be a whole number from -10 to 10 (got "-0x3")', 'FLAG must be boolean (true or false) (got "1")']);
});

t.test('every problem in every variable is reported at once, required ones included', async (t) => {
  const problems = problemsOf(() =>
    loadRackConfig({
      SIDECAR_LISTEN_PORT: 'true',
      COMMAND_MODE: 'shell',
      WATCH_WAIT_SECONDS: '600',
      LOG_LEVEL: 'loud',
      RACK_HOSTNAME: 'rack_a!',
      RECONCILE_SCHEDULE: 'often',
    }),
  );
  t.same(problems.sort(), [
    'COMMAND_MODE must be one of: direct, nsenter, kube-exec (got "shell")',
    'LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace (got "loud")',
    'RACK_HOSTNAME must be a host name label: 1 to 63 letters, digits or "-", not starting or ending with "-" (got "rack_a!")',
    'RECONCILE_SCHEDULE must be a cron expression, e.g. "*/30 * * * * *" (got "often")',
    'REGION_SIDECAR_URL is required (the region sidecar, e.g. http://maas-region-sidecar:8080)',
    'SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 (got "true")',
    'SIDECAR_TOKEN_FILE is required (the bearer token the region sidecar expects)',
    'WATCH_WAIT_SECONDS must be a whole number from 1 to 60 (got "600")',
  ]);
  const regionProblems = problemsOf(() =>
    loadRegionConfig({ MAAS_TIMEOUT_SECONDS: '1.5', MAAS_REGION_COMMAND: 'maas-region; reboot', COMMAND_MODE: 'nsenter' }),
  );
  t.same(regionProblems.sort(), [
    'COMMAND_NSENTER_TARGET is required when COMMAND_MODE is nsenter (a pid or a process name)',
    'MAAS_ADMIN_PASSWORD_FILE is required unless MAAS_API_KEY_FILE is given (no default password)',
    'MAAS_REGION_COMMAND must be a command name or path: 1 to 255 letters, digits, "_", ".", "/" or "-" (no spaces or shell) (got "maas-region; reboot")',
    'MAAS_TIMEOUT_SECONDS must be a whole number from 1 to 600 (got "1.5")',
    'SIDECAR_TOKEN_FILE is required (the bearer token racks present)',
  ]);
});

t.test('kube-exec names every variable it still needs, and a service account folder without a token', async (t) => {
  const missing = problemsOf(() => loadRackConfig({ ...RACK_OK, COMMAND_MODE: 'kube-exec', KUBE_SERVICE_ACCOUNT_DIR: join(dir, 'no-sa') }));
  t.same(missing.sort(), [
    'COMMAND_EXEC_CONTAINER is required when COMMAND_MODE is kube-exec (the MAAS container of this pod)',
    'KUBERNETES_SERVICE_HOST is required when COMMAND_MODE is kube-exec (the API server; Kubernetes sets it in every pod)',
    "KUBERNETES_SERVICE_PORT is required when COMMAND_MODE is kube-exec (the API server's port; Kubernetes sets it in every pod)",
    `KUBE_SERVICE_ACCOUNT_DIR: ${join(dir, 'no-sa', 'ca.crt')} is missing (COMMAND_MODE kube-exec needs the pod's service account token there: mount it, as deploy/ does with a projected volume)`,
    `KUBE_SERVICE_ACCOUNT_DIR: ${join(dir, 'no-sa', 'token')} is missing (COMMAND_MODE kube-exec needs the pod's service account token there: mount it, as deploy/ does with a projected volume)`,
    'POD_NAME is required when COMMAND_MODE is kube-exec (this pod, from the downward API: metadata.name)',
    "POD_NAMESPACE is required when COMMAND_MODE is kube-exec (this pod's namespace, from the downward API: metadata.namespace)",
  ]);
  const invalid = problemsOf(() =>
    loadRackConfig({
      ...RACK_OK,
      COMMAND_MODE: 'kube-exec',
      COMMAND_EXEC_CONTAINER: 'MAAS Rack',
      POD_NAME: 'pod;id',
      POD_NAMESPACE: 'maas',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBE_SERVICE_ACCOUNT_DIR: dir,
    }),
  );
  t.match(invalid, [
    /^COMMAND_EXEC_CONTAINER must be a Kubernetes name: .* \(got "MAAS Rack"\)$/,
    /^POD_NAME must be a pod name: .* \(got "pod;id"\)$/,
    /KUBE_SERVICE_ACCOUNT_DIR: .*ca.crt is missing/,
  ]);
  await mkdir(join(dir, 'sa'), { recursive: true });
  await writeFile(join(dir, 'sa', 'token'), 't');
  await writeFile(join(dir, 'sa', 'ca.crt'), 'c');
  const config = loadRackConfig({
    ...RACK_OK,
    COMMAND_MODE: 'kube-exec',
    COMMAND_EXEC_CONTAINER: 'maas-rack',
    POD_NAME: 'maas-rack-x7k2p',
    POD_NAMESPACE: 'maas',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBE_SERVICE_ACCOUNT_DIR: join(dir, 'sa'),
  });
  t.same(config.runner, {
    kind: 'kube-exec',
    container: 'maas-rack',
    pod: 'maas-rack-x7k2p',
    namespace: 'maas',
    serviceAccountDir: join(dir, 'sa'),
    apiServer: { host: '10.96.0.1', port: 443 },
  });
});

/** A value each kind of rule rejects, for the plain-English check below. */
function badValue(schema: TSchema): string | undefined {
  const s = schema as { type?: string; anyOf?: unknown; pattern?: string };
  if (s.type === 'integer') return '1.5';
  if (s.anyOf) return 'shell';
  if (s.pattern) return 'a b; $(reboot)';
  return undefined;
}

t.test('every rule of both schemas has a plain-English message naming the variable and the value', async (t) => {
  for (const [load, schema] of [
    [loadRegionConfig, RegionEnvSchema],
    [loadRackConfig, RackEnvSchema],
  ] as const) {
    const env = { ...REGION_OK, ...RACK_OK };
    for (const [name, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
      const bad = badValue(property);
      if (bad === undefined) continue;
      const problems = problemsOf(() => load({ ...env, [name]: bad })).filter((p) => p.startsWith(name));
      t.equal(problems.length, 1, `${name}: one problem`);
      const [problem = ''] = problems;
      t.match(problem, new RegExp(`^${name} must be .* \\(got ${JSON.stringify(bad).replace(/[$()[\]]/g, '\\$&')}\\)$`), name);
      t.notMatch(problem, /constant|pattern|anyOf|schema|[<>]=|\^|\$\/|\{\d/, `${name}: no validator jargon`);
    }
  }
});

t.test('help rows state the range of every whole-number variable', async (t) => {
  for (const [help, schema] of [
    [REGION_ENV_HELP, RegionEnvSchema],
    [RACK_ENV_HELP, RackEnvSchema],
  ] as const) {
    for (const [name, property] of Object.entries(schema.properties as Record<string, { type?: string; minimum?: number; maximum?: number }>)) {
      if (property.type !== 'integer') continue;
      const row = help.find(([variable]) => variable === name)?.[1] ?? '';
      t.match(row, `${property.minimum} to ${property.maximum}`, name);
    }
  }
});

t.test("a URL's credentials are never echoed", async (t) => {
  t.throws(() => urlVar('MAAS_URL', 'admin:S3cret@maas:5240'), { message: 'MAAS_URL must be an http(s) URL with a host' });
  t.throws(() => urlVar('MAAS_URL', 'http//admin:S3cret@maas'), { message: 'MAAS_URL must be an http(s) URL' });
});

t.test('SIDECAR_LISTEN_HOST: an IP address or a host name, checked before anything starts', async (t) => {
  for (const host of ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost', 'maas-region-sidecar.maas.svc.cluster.local']) {
    t.same(rack({ SIDECAR_LISTEN_HOST: host }), [], host);
  }
  for (const host of ['not a host', 'http://0.0.0.0', '0.0.0.0:8080', '[::1]', '-leading', 'a..b', 'x'.repeat(64)]) {
    const [problem = '', ...rest] = rack({ SIDECAR_LISTEN_HOST: host });
    t.same(rest, [], host);
    t.match(problem, /^SIDECAR_LISTEN_HOST must be an IP address \(e\.g\. 0\.0\.0\.0, ::, 10\.0\.0\.5\) or a host name/, host);
    t.match(problem, `(got ${JSON.stringify(host)})`);
  }
  t.match(rack({ SIDECAR_LISTEN_HOST: '[::1]' }), [/without brackets/]);
});

t.test('a listen host name must resolve, within a deadline', async (t) => {
  const refused = async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }));
  await t.rejects(checkListenHost('nowhere', 'SIDECAR_LISTEN_HOST', refused), {
    name: 'ConfigError',
    problems: ['SIDECAR_LISTEN_HOST must be an IP address or a host name that resolves: "nowhere" does not resolve (ENOTFOUND)'],
  });
  await t.rejects(
    checkListenHost('empty', 'SIDECAR_LISTEN_HOST', async () => []),
    { name: 'ConfigError', problems: [/"empty" does not resolve \(no addresses\)/] },
  );
  const never = () => new Promise<never>(() => undefined);
  await t.rejects(checkListenHost('slow', 'SIDECAR_LISTEN_HOST', never, 20), {
    name: 'ConfigError',
    problems: [/"slow" does not resolve \(no answer within 0\.02 s\)/],
  });
  await t.resolves(checkListenHost('10.9.9.9', 'SIDECAR_LISTEN_HOST', refused), 'an IP address is not looked up');
  await t.resolves(checkListenHost('sidecar', 'SIDECAR_LISTEN_HOST', async () => [{ address: '10.0.0.5' }]));
  await t.rejects(
    checkListenHost('no-such-host.invalid'),
    { name: 'ConfigError', problems: [/^SIDECAR_LISTEN_HOST .*"no-such-host\.invalid" does not resolve/] },
    'the real resolver',
  );
});

t.test('bounded reads: a regular file within the limit, nothing else, never blocking', async (t) => {
  const pipe = fifo('pipe');
  t.throws(() => readBoundedFileSync(pipe, 100), { problem: 'not-regular', message: `${pipe} is not a regular file (it is a FIFO (named pipe))` });
  await t.rejects(readBoundedFile(pipe, 100), { name: 'FileReadError', problem: 'not-regular' });
  t.throws(() => readBoundedFileSync(dir, 100), { problem: 'not-regular', message: /it is a directory/ });
  t.throws(() => readBoundedFileSync('/dev/zero', 100), { problem: 'not-regular', message: /it is a character device/ });
  const big = await sparse('big', 61 * 1024 * 1024);
  t.throws(() => readBoundedFileSync(big, FILE_LIMITS.config), { problem: 'too-large', message: `${big} is larger than the limit of 1 MiB (it is 61 MiB)` });
  await t.rejects(readBoundedFile(big, FILE_LIMITS.config), { name: 'FileReadError', problem: 'too-large' });
  // /proc reports size 0: the limit holds while reading.
  t.throws(() => readBoundedFileSync('/proc/self/status', 64), { problem: 'too-large', message: /grew past the limit while being read/ });
  await t.rejects(readBoundedFile('/proc/self/status', 64), { name: 'FileReadError', problem: 'too-large' });
  t.throws(() => readBoundedFileSync(join(dir, 'none'), 100), { problem: 'missing', message: `cannot read ${join(dir, 'none')} (ENOENT)` });
  const exact = await file('exact', 'x'.repeat(100));
  t.equal(readBoundedFileSync(exact, 100), 'x'.repeat(100));
  t.equal(await readBoundedFile(exact, 100), 'x'.repeat(100));
  const multi = await file('multi', 'é'.repeat(100_000));
  t.equal(readBoundedFileSync(multi, FILE_LIMITS.config), 'é'.repeat(100_000), 'several chunks, a character across a chunk boundary');
  t.equal(await readBoundedFile(multi, FILE_LIMITS.config), 'é'.repeat(100_000));
});

t.test('every operator file: a FIFO, a directory or an oversized file is a problem naming the variable', async (t) => {
  const pipe = fifo('fifo-token');
  t.same(region({ SIDECAR_TOKEN_FILE: pipe }), [`SIDECAR_TOKEN_FILE: ${pipe} is not a regular file (it is a FIFO (named pipe))`]);
  t.same(rack({ SIDECAR_TOKEN_FILE: pipe }), [`SIDECAR_TOKEN_FILE: ${pipe} is not a regular file (it is a FIFO (named pipe))`]);
  t.same(region({ MAAS_ADMIN_PASSWORD_FILE: dir }), [`MAAS_ADMIN_PASSWORD_FILE: ${dir} is not a regular file (it is a directory)`]);
  const bigKey = await sparse('big-key', 65 * 1024);
  t.same(region({ MAAS_API_KEY_FILE: bigKey }), [`MAAS_API_KEY_FILE: ${bigKey} is larger than the limit of 64 KiB (it is 65 KiB)`]);
  t.same(region({ SIDECAR_TOKEN_FILE: bigKey }), [`SIDECAR_TOKEN_FILE: ${bigKey} is larger than the limit of 64 KiB (it is 65 KiB)`]);
  const bigNet = await sparse('big.yaml', 61 * 1024 * 1024);
  t.same(region({ NETWORK_CONFIG_FILE: bigNet }), [`NETWORK_CONFIG_FILE: ${bigNet} is larger than the limit of 1 MiB (it is 61 MiB)`]);
  const netPipe = fifo('net-fifo.yaml');
  t.same(region({ NETWORK_CONFIG_FILE: netPipe }), [`NETWORK_CONFIG_FILE: ${netPipe} is not a regular file (it is a FIFO (named pipe))`]);
  await mkdir(join(dir, 'a-dir'));
  t.same(
    region({ SIDECAR_TOKEN_FILE: pipe, MAAS_API_KEY_FILE: join(dir, 'a-dir'), NETWORK_CONFIG_FILE: bigNet, SIDECAR_LISTEN_PORT: 'x' }).length,
    4,
    'with every other problem',
  );
});

t.test('plan: --network and --api-key-file are read bounded, both problems at once', async (t) => {
  const pipe = fifo('plan-fifo.yaml');
  const bigKey = await sparse('plan-key', 1024 * 1024);
  await t.rejects(planCommand.run(['--network', pipe, '--maas-url', 'http://maas:5240/MAAS', '--api-key-file', bigKey]), {
    name: 'ConfigError',
    problems: [
      `--network: ${pipe} is not a regular file (it is a FIFO (named pipe))`,
      `--api-key-file: ${bigKey} is larger than the limit of 64 KiB (it is 1 MiB)`,
    ],
  });
});

t.test('files re-read at run time: a FIFO or an oversized file fails that read, logged, no crash', async (t) => {
  const pipe = fifo('secret-fifo');
  t.same(await readSecretFile(pipe), { ok: false, problem: 'not a regular file' });
  const big = await sparse('secret-big', 100 * 1024);
  t.same(await readSecretFile(big), { ok: false, problem: 'larger than the 64 KiB limit' });

  const log = memoryLogger();
  const seen: string[] = [];
  const source = new SecretSource({ path: pipe, pollMs: 10, logger: log.logger, onStable: (s) => seen.push(s) });
  t.teardown(() => source.stop());
  source.start();
  await waitFor(() => log.lines.find((l) => l.msg === 'region secret file not usable' && l.problem === 'not a regular file'), {
    what: 'the FIFO logged',
    timeoutMs: scaled(5_000),
  });
  t.same(seen, []);

  const conf = join(dir, 'rackd.conf');
  await writeFile(conf, 'maas_url: http://region:5240/MAAS\n');
  await t.rejects(readLocalRegistration(conf, pipe), { message: `RACK_SECRET_FILE: ${pipe} is not a regular file (it is a FIFO (named pipe))` });
  const bigConf = await sparse('rackd-big.conf', 2 * 1024 * 1024);
  await t.rejects(readLocalRegistration(bigConf, join(dir, 'none')), {
    message: `RACKD_CONF_FILE: ${bigConf} is larger than the limit of 1 MiB (it is 2 MiB)`,
  });
  t.same(await readLocalRegistration(join(dir, 'none.conf'), join(dir, 'none')), {}, 'missing files still mean not registered');
});

/**
 * Logs for people: `--log-format pretty` / `LOG_FORMAT=pretty` (pino-pretty, loaded only when
 * asked), JSON by default, a bad value a configuration error (exit 2), and redaction in both.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { closedPort } from '../helpers/ports.js';
import { runCli, startCli } from '../helpers/process.js';
import { PASSWORD, startSimulatorProcess, stackSecrets, tempDir, TOKEN } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { createLogger, REDACT_PATHS } from '../../src/telemetry/logger.js';

/** A pretty line: local time, level, name, message (no colours: stdout is not a terminal here). */
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \([\w-]+\): /;

const prettyLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/pino-pretty/'));

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

t.test('pretty lines are redacted like JSON ones, and pino-pretty loads only when asked', async (t) => {
  const values = REDACT_PATHS.map((_, i) => `secret-value-${i}-0123456789`);
  // Every redaction path, filled with a value of its own.
  const fields: Record<string, unknown> = {};
  REDACT_PATHS.forEach((path, i) => {
    const parts = path.replace('*', 'nested').split('.');
    let node = fields;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = values[i];
  });
  const json = sink();
  createLogger({ destination: json.stream, format: 'json' }).info(fields, 'with secrets');
  t.notOk(prettyLoaded(), 'a JSON logger does not load pino-pretty');
  const pretty = sink();
  createLogger({ name: 'maas-sidecar-test', destination: pretty.stream, format: 'pretty' }).info(fields, 'with secrets');
  t.ok(prettyLoaded(), 'a pretty logger does');
  t.match(pretty.text(), PRETTY_LINE);
  t.match(pretty.text(), 'with secrets');
  t.match(pretty.text(), '[redacted]');
  t.match(json.text(), '[redacted]');
  for (const value of values) {
    t.notMatch(pretty.text(), value, 'pretty: redacted');
    t.notMatch(json.text(), value, 'json: redacted');
  }
});

t.test('LOG_FORMAT=pretty: a region sidecar logs for people, and never a secret', async (t) => {
  const sim = await startSimulatorProcess(t);
  const dir = await tempDir(t, 'maas-pretty-');
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  const port = await closedPort();
  const region = startCli(t, ['region'], {
    MAAS_URL: sim.url,
    MAAS_REGION_COMMAND: join(sim.dir, 'bin', 'maas-region'),
    MAAS_SECRET_FILE: join(sim.dir, 'secret'),
    MAAS_ADMIN_PASSWORD_FILE: join(dir, 'password'),
    SIDECAR_TOKEN_FILE: join(dir, 'token'),
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'pretty',
  });
  const line = (pattern: RegExp) =>
    waitFor(() => region.stdout.find((l) => pattern.test(l)), {
      what: `a line like ${pattern}; saw ${region.stdout.slice(-3).join(' | ')}`,
      timeoutMs: scaled(20_000),
    });
  await line(/INFO \(maas-sidecar-region\): bootstrapped: admin API key verified/);
  await line(/INFO \(maas-sidecar-region\): region secret published/);
  // A client that puts the token in the query string, and a wrong one in the header.
  const answer = await fetch(`http://127.0.0.1:${port}/v1/region?token=${TOKEN}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } });
  t.equal(answer.status, 401);
  await line(/\/v1\/region\?\[redacted\]/);
  const output = [...region.stdout, ...region.stderr].join('\n');
  const lines = region.stdout.filter((l) => l.trim() !== '');
  t.ok(
    lines.every((l) => PRETTY_LINE.test(l)),
    `every line is a pretty one (first odd one: ${lines.find((l) => !PRETTY_LINE.test(l)) ?? 'none'})`,
  );
  t.notMatch(output, '\u001b[', 'no colours when stdout is not a terminal');
  for (const secret of await stackSecrets(sim)) t.notMatch(output, secret, 'no secret in the pretty log');
});

t.test('--log-format pretty on the command line, and bad values exit 2 naming the flag or variable', async (t) => {
  const dir = await tempDir(t, 'maas-pretty-sim-');
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir, '--log-format', 'pretty']);
  const [badFlag, badEnv, missingValue] = await Promise.all([
    runCli(t, ['region', '--log-format=xml']),
    (async () => {
      const proc = startCli(t, ['rack'], { LOG_FORMAT: 'yaml' });
      const code = await proc.exited;
      return { code, stderr: proc.stderr.join('\n') };
    })(),
    runCli(t, ['simulator', '--log-format']),
  ]);
  await waitFor(() => sim.stdout.find((l) => /^\[[\d:.]+\] INFO \(maas-simulator\): simulator listening/.test(l)), {
    what: 'a pretty "simulator listening"',
    timeoutMs: scaled(10_000),
  });
  t.equal(badFlag.code, 2);
  t.match(badFlag.stderr, 'maas-sidecar region: invalid configuration:\n  - --log-format must be one of: json, pretty (got "xml")');
  t.equal(badEnv.code, 2);
  t.match(badEnv.stderr, 'LOG_FORMAT must be one of: json, pretty (got "yaml")');
  t.equal(missingValue.code, 2);
  t.match(missingValue.stderr, '--log-format needs a value: json or pretty');
});

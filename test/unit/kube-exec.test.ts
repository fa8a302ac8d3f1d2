/**
 * COMMAND_MODE=kube-exec: the runner against a local endpoint that speaks the Kubernetes exec
 * protocol (test/helpers/kube-api.ts), and that endpoint against the reference client,
 * @kubernetes/client-node, so the stand-in API server is held to what real clients expect.
 */
import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Exec } from '@kubernetes/client-node/dist/exec.js';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { createRunner } from '../../src/exec/runner.js';
import { execUrl, exitCodeOf } from '../../src/exec/kube-exec.js';
import type { KubeExecTarget } from '../../src/exec/launcher.js';
import { ExecError } from '../../src/errors.js';
import { startKubeApi, type KubeApi, type KubeContainer } from '../helpers/kube-api.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { tempDir } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';

const MAAS: KubeContainer = { namespace: 'maas', pod: 'maas-rack-x7k2p', container: 'maas-rack' };
const SIDECAR: KubeContainer = { namespace: 'maas', pod: 'maas-rack-x7k2p', container: 'rack-sidecar' };

function target(api: KubeApi, overrides: Partial<KubeExecTarget> = {}): KubeExecTarget {
  return {
    namespace: MAAS.namespace,
    pod: MAAS.pod,
    container: MAAS.container,
    serviceAccountDir: api.serviceAccountDir,
    apiServer: { host: api.host, port: api.port },
    ...overrides,
  };
}

function runnerFor(api: KubeApi, overrides: Partial<KubeExecTarget> = {}, timeoutMs = scaled(10_000)) {
  const log = memoryLogger();
  return { log, run: createRunner({ mode: { kind: 'kube-exec', ...target(api, overrides) }, timeoutMs, logger: log.logger }) };
}

const node = process.execPath;

t.test('a Status becomes an exit code, or the reason the command did not run', async (t) => {
  t.same(exitCodeOf({ status: 'Success' }), { exitCode: 0 });
  t.same(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }), { exitCode: 3 });
  t.same(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'exec: "x": executable file not found' }), {
    reason: 'exec: "x": executable file not found',
  });
  t.same(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: 'many' }] } }), {
    reason: 'the API server reported a failure without a message',
  });
  t.same(exitCodeOf('Success'), { reason: 'the API server reported a failure without a message' });
});

t.test('the exec URL carries each argument as its own command parameter, encoded', async (t) => {
  const url = new URL(
    execUrl({ namespace: 'maas', pod: 'p', container: 'c', serviceAccountDir: '/x', apiServer: { host: 'fd00::1', port: 6443 } }, ['a b', '&x=1', '--'], true),
  );
  t.equal(url.host, '[fd00::1]:6443');
  t.equal(url.pathname, '/api/v1/namespaces/maas/pods/p/exec');
  t.same(url.searchParams.getAll('command'), ['a b', '&x=1', '--']);
  t.same([url.searchParams.get('container'), url.searchParams.get('stdin'), url.searchParams.get('tty')], ['c', 'true', 'false']);
});

t.test('commands run in the named container with their arguments verbatim, output and exit code back', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS, SIDECAR] });
  const { run } = runnerFor(api);
  const result = await run({
    command: node,
    args: ['-e', 'console.log(JSON.stringify(process.argv.slice(1))); console.error("warn"); process.exit(3)', '$(id)', '; rm -rf /', ''],
  });
  t.same(JSON.parse(result.stdout), ['$(id)', '; rm -rf /', '']);
  t.same([result.stderr.trim(), result.exitCode], ['warn', 3]);
  t.match(api.execs.at(-1), { pod: MAAS.pod, container: 'maas-rack', protocol: 'v5.channel.k8s.io', stdin: false, status: 101 });
});

t.test('standard input reaches the command and is closed (v5), so a CLI reading it to the end finishes', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS] });
  const { run, log } = runnerFor(api);
  const secret = 'stdin-password-0123';
  const result = await run({
    command: node,
    args: ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.length))'],
    input: `${secret}\n${secret}\n`,
    secrets: [secret],
  });
  t.same([result.exitCode, result.stdout.trim()], [0, String(secret.length * 2 + 2)]);
  t.notMatch(log.text(), secret);
  t.equal(api.execs.at(-1)?.stdin, true);
});

t.test('an API server without v5 refuses input clearly instead of hanging; without input v4 is enough', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS], protocols: ['v4.channel.k8s.io'] });
  const { run } = runnerFor(api);
  const err = await run({ command: node, args: ['-e', 'process.stdin.resume()'], input: 'x\n' }).catch((e: unknown) => e);
  t.type(err, ExecError);
  t.match((err as Error).message, /speaks v4\.channel\.k8s\.io, not v5\.channel\.k8s\.io \(Kubernetes 1\.30 or newer\), which standard input needs/);
  const ok = await run({ command: node, args: ['-e', 'console.log("v4")'] });
  t.same([ok.exitCode, ok.stdout.trim()], [0, 'v4']);
});

t.test('refusals name the reason the API server gave', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS] });
  const cases: [string, Partial<KubeExecTarget>, RegExp][] = [
    ['another pod', { pod: 'maas-region-0' }, /refused the exec \(HTTP 404\): pods "maas-region-0" not found/],
    ['another container', { container: 'postgres' }, /refused the exec \(HTTP 400\): container postgres is not valid for pod maas-rack-x7k2p/],
  ];
  for (const [name, overrides, message] of cases) {
    const err = await runnerFor(api, overrides)
      .run({ command: 'maas-rack', args: ['register'] })
      .catch((e: unknown) => e);
    t.type(err, ExecError, name);
    t.match((err as Error).message, message, name);
  }
  const stale = await tempDir(t, 'maas-sa-stale-');
  await writeFile(join(stale, 'token'), 'a-token-the-server-does-not-know');
  await writeFile(join(stale, 'ca.crt'), api.caCert);
  const unauthorized = await runnerFor(api, { serviceAccountDir: stale })
    .run({ command: 'true', args: [] })
    .catch((e: unknown) => e);
  t.match(
    (unauthorized as Error).message,
    /^kube-exec maas\/maas-rack-x7k2p\/maas-rack: true could not start: the API server refused the exec \(HTTP 401\): Unauthorized$/,
  );
  const missing = await runnerFor(api, { serviceAccountDir: join(stale, 'nowhere') })
    .run({ command: 'true', args: [] })
    .catch((e: unknown) => e);
  t.match((missing as Error).message, /could not start: the service account credentials: .*nowhere\/token/);
});

t.test('the API server must prove itself with the cluster CA', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS] });
  const other = await startKubeApi(t, { containers: [MAAS] });
  const mixed = await tempDir(t, 'maas-sa-mixed-');
  await writeFile(join(mixed, 'token'), api.token);
  await writeFile(join(mixed, 'ca.crt'), other.caCert);
  const err = await runnerFor(api, { serviceAccountDir: mixed })
    .run({ command: 'true', args: [] })
    .catch((e: unknown) => e);
  t.match(
    (err as Error).message,
    /could not start: no exec session with the API server: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|.*certificate)/i,
  );
  t.equal(api.execs.length, 0, 'nothing was sent to an unverified server');
});

t.test('a command that does not exist in the container, one that hangs, and one stopped', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS] });
  const missing = await runnerFor(api)
    .run({ command: 'no-such-maas-command', args: [] })
    .catch((e: unknown) => e);
  t.match((missing as Error).message, /could not start: Internal error occurred: .*exec: "no-such-maas-command": executable file not found/);

  const hang = await runnerFor(api, {}, 300)
    .run({ command: node, args: ['-e', 'setInterval(() => {}, 1000)'] })
    .catch((e: unknown) => e);
  t.type(hang, ExecError);
  t.equal((hang as ExecError).timedOut, true);

  const controller = new AbortController();
  const pending = runnerFor(api).run({ command: node, args: ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], signal: controller.signal });
  controller.abort();
  const stopped = await pending.catch((e: unknown) => e);
  t.match((stopped as Error).message, /was stopped$/);
  t.equal((stopped as ExecError).timedOut, false);
});

t.test('output over the limit is an error, not a silent cut', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS] });
  const err = await runnerFor(api)
    .run({ command: node, args: ['-e', 'process.stdout.write("x".repeat(300 * 1024))'] })
    .catch((e: unknown) => e);
  t.match((err as Error).message, /wrote more than 262144 bytes to stdout/);
});

t.test('the local endpoint speaks what @kubernetes/client-node speaks (stdout, stdin, exit status)', async (t) => {
  const api = await startKubeApi(t, { containers: [MAAS] });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: `https://127.0.0.1:${api.port}`, caData: Buffer.from(api.caCert).toString('base64') }],
    users: [{ name: 'sa', token: api.token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'sa' }],
    currentContext: 'test',
  });
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const status = await new Promise<unknown>((resolve, reject) => {
    new Exec(kc)
      .exec(
        MAAS.namespace,
        MAAS.pod,
        MAAS.container,
        [node, '-e', 'process.stdin.pipe(process.stdout); process.stdin.on("end", () => process.exit(4))'],
        stdout,
        null,
        Readable.from(['from stdin']),
        false,
        resolve,
      )
      .catch(reject);
  });
  t.match(status, { status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '4' }] } });
  t.equal(Buffer.concat(chunks).toString('utf8'), 'from stdin');
});

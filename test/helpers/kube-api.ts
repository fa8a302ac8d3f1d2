/**
 * A local Kubernetes API server endpoint for `pods/exec`, speaking what kubectl and
 * @kubernetes/client-node speak: HTTPS, a bearer token, a WebSocket upgrade on
 * /api/v1/namespaces/NS/pods/POD/exec?command=…&container=…, the channel protocol
 * (v5.channel.k8s.io, or only v4 when asked), and a final Status on stream 3. Refusals come
 * before the upgrade as Status JSON with 401/403/404, as the API server answers them.
 *
 * Each container it knows runs a command by `spawn(argv)` (a local process playing the container,
 * or `docker exec -i` into a real one). Every exec is recorded for assertions.
 */
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { spawnGroup } from './process.js';
import type { Teardownable } from './simulator.js';
import { tempDir } from './stack.js';
import { makeTestCa } from './tls.js';

export interface KubeContainer {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** The command line as the container runs it, e.g. ['docker', 'exec', '-i', id, ...argv]. */
  readonly argv?: (argv: readonly string[]) => readonly string[];
  /** Environment of the command (a local process playing the container). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ExecRecord {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly argv: readonly string[];
  readonly stdin: boolean;
  readonly protocol: string;
  /** The HTTP status of a refusal, or 101 for a session. */
  readonly status: number;
}

export interface KubeApi {
  readonly host: string;
  readonly port: number;
  /** A service-account folder (token, ca.crt, namespace) to give a sidecar: KUBE_SERVICE_ACCOUNT_DIR. */
  readonly serviceAccountDir: string;
  readonly token: string;
  readonly caCert: string;
  readonly execs: ExecRecord[];
  /** The env a kube-exec sidecar needs to reach this endpoint as `pod`'s service account. */
  sidecarEnv(pod: KubeContainer): Record<string, string>;
}

export interface KubeApiOptions {
  readonly containers: readonly KubeContainer[];
  /** Protocols the server accepts, in its order of preference (default v5 then v4). */
  readonly protocols?: readonly string[];
  /** The service account token the endpoint accepts (default: a fixed test token). */
  readonly token?: string;
}

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

export async function startKubeApi(t: Teardownable, options: KubeApiOptions): Promise<KubeApi> {
  const ca = await makeTestCa(t);
  const { cert, key } = await ca.issue('kube-apiserver', ['IP:127.0.0.1', 'DNS:localhost']);
  const token = options.token ?? 'kube-api-test-token-0123456789';
  const serviceAccountDir = join(await tempDir(t, 'maas-sa-'), 'serviceaccount');
  await mkdir(serviceAccountDir);
  await writeFile(join(serviceAccountDir, 'token'), `${token}`);
  await writeFile(join(serviceAccountDir, 'ca.crt'), ca.cert);
  await writeFile(join(serviceAccountDir, 'namespace'), options.containers[0]?.namespace ?? 'maas');

  const protocols = options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  const execs: ExecRecord[] = [];
  const running = new Set<() => Promise<void>>();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => protocols.find((p) => offered.has(p)) ?? false,
  });
  const server = createServer({ cert, key }, (_req, res) => {
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify(status('Failure', 'NotFound', 'the server could not find the requested resource', 404)));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const match = EXEC_PATH.exec(url.pathname);
    const argv = url.searchParams.getAll('command');
    const record = (code: number, protocol = '') =>
      execs.push({
        namespace: decodeURIComponent(match?.[1] ?? ''),
        pod: decodeURIComponent(match?.[2] ?? ''),
        container: url.searchParams.get('container') ?? '',
        argv,
        stdin: url.searchParams.get('stdin') === 'true',
        protocol,
        status: code,
      });
    const refuse = (code: number, reason: string, message: string) => {
      record(code);
      const body = JSON.stringify(status('Failure', reason, message, code));
      socket.end(
        `HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    if (req.headers.authorization !== `Bearer ${token}`) return refuse(401, 'Unauthorized', 'Unauthorized');
    if (match === null) return refuse(404, 'NotFound', 'the server could not find the requested resource');
    const [namespace, pod] = [decodeURIComponent(match[1] as string), decodeURIComponent(match[2] as string)];
    const name = url.searchParams.get('container') ?? '';
    const target = options.containers.find((c) => c.namespace === namespace && c.pod === pod);
    if (target === undefined) return refuse(404, 'NotFound', `pods "${pod}" not found`);
    const container = options.containers.find((c) => c.namespace === namespace && c.pod === pod && c.container === name);
    if (container === undefined) return refuse(400, 'BadRequest', `container ${name} is not valid for pod ${pod}`);
    if (argv.length === 0) return refuse(400, 'BadRequest', 'you must specify at least 1 command');
    wss.handleUpgrade(req, socket, head, (ws) => {
      record(101, ws.protocol);
      session(ws, container, argv, url.searchParams.get('stdin') === 'true', running);
    });
    return undefined;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await Promise.all([...running].map((stop) => stop()));
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    serviceAccountDir,
    token,
    caCert: ca.cert,
    execs,
    sidecarEnv: (target) => ({
      COMMAND_MODE: 'kube-exec',
      COMMAND_EXEC_CONTAINER: target.container,
      POD_NAME: target.pod,
      POD_NAMESPACE: target.namespace,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(port),
      KUBE_SERVICE_ACCOUNT_DIR: serviceAccountDir,
    }),
  };
}

/** Runs one command for one WebSocket session: streams out, stdin in, the Status last. */
function session(ws: WebSocket, container: KubeContainer, argv: readonly string[], stdin: boolean, running: Set<() => Promise<void>>): void {
  const full = container.argv?.(argv) ?? argv;
  const { child, exited, stop } = spawnGroup(full, container.env ?? {}, { stdin: stdin ? 'pipe' : 'ignore' });
  running.add(stop);
  const send = (stream: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(stream), data]));
  };
  child.stdout?.on('data', (chunk: Buffer) => send(1, chunk));
  child.stderr?.on('data', (chunk: Buffer) => send(2, chunk));
  let spawnError: string | undefined;
  (child as ChildProcess).once('error', (err: NodeJS.ErrnoException) => {
    spawnError = err.code === 'ENOENT' ? `exec: "${argv[0]}": executable file not found in $PATH` : err.message;
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    if (data[0] === 0) child.stdin?.write(data.subarray(1));
    else if (data[0] === 255 && data[1] === 0) child.stdin?.end();
  });
  // The client going away ends the command here (the real API server would leave it running).
  ws.on('close', () => void stop());
  void exited.then(async (code) => {
    // Let the last output chunks through before the Status.
    await Promise.all([child.stdout, child.stderr].map((s) => (s === null || s.readableEnded ? undefined : new Promise((r) => s.once('close', r)))));
    running.delete(stop);
    await stop();
    const final =
      spawnError !== undefined
        ? status('Failure', 'InternalError', `Internal error occurred: error executing command in container: ${spawnError}`, 500)
        : code === 0
          ? status('Success')
          : {
              ...status(
                'Failure',
                'NonZeroExitCode',
                `command terminated with non-zero exit code: error executing command [${argv[0]}], exit code ${code ?? 137}`,
              ),
              details: { causes: [{ reason: 'ExitCode', message: String(code ?? 137) }] },
            };
    send(3, Buffer.from(JSON.stringify(final)));
    ws.close(1000);
  });
}

function status(result: 'Success' | 'Failure', reason?: string, message?: string, code?: number): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: result,
    ...(message === undefined ? {} : { message }),
    ...(reason === undefined ? {} : { reason }),
    ...(code === undefined ? {} : { code }),
  };
}

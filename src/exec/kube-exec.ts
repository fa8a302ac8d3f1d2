/**
 * `kube-exec`: runs a command in the MAAS container of this pod through the Kubernetes exec API
 * (`pods/exec` over a WebSocket, the channel protocol kubectl speaks), as the pod's own service
 * account. The MAAS container keeps systemd as its PID 1 and the pod needs no shared process
 * namespace (docs/design.md, "command modes").
 *
 * The protocol is small (binary frames whose first byte names the stream: 0 stdin, 1 stdout,
 * 2 stderr, 3 the final Status; with v5.channel.k8s.io, [255, n] closes stream n), so it is
 * spoken here with `ws`, the WebSocket library @kubernetes/client-node itself uses: that client
 * costs about a second and 80 MB of generated API code at start-up for this one call.
 */
import { join } from 'node:path';
import WebSocket from 'ws';
import { withDeadline } from '../util/deadline.js';
import { FILE_LIMITS, readBoundedFile } from '../util/read-file.js';
import { MAX_OUTPUT, type KubeExecTarget, type Launch, type Launcher, type LaunchOutcome } from './launcher.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STREAM = { stdin: 0, stdout: 1, stderr: 2, status: 3, close: 255 } as const;
/** A Status object is small; a frame over this is not the API server speaking. */
const MAX_FRAME = MAX_OUTPUT + 1;

export function kubeExecLauncher(target: KubeExecTarget): Launcher {
  return {
    prepare: async (argv) => ({
      shown: `kube-exec ${target.namespace}/${target.pod}/${target.container}: ${argv.join(' ')}`,
      launch: (request) => execInPod(target, argv, request),
    }),
  };
}

/** The exec URL: the argv travels as repeated `command` parameters (docs/security.md says who sees it). */
export function execUrl(target: KubeExecTarget, argv: readonly string[], stdin: boolean): string {
  const host = target.apiServer.host.includes(':') ? `[${target.apiServer.host}]` : target.apiServer.host;
  const query = new URLSearchParams({ container: target.container, stdout: 'true', stderr: 'true', stdin: String(stdin), tty: 'false' });
  for (const arg of argv) query.append('command', arg);
  const path = ['api', 'v1', 'namespaces', target.namespace, 'pods', target.pod, 'exec'].map(encodeURIComponent).join('/');
  return `wss://${host}:${target.apiServer.port}/${path}?${query}`;
}

/**
 * The exit code a final Status reports: 0 for Success, N for NonZeroExitCode's ExitCode cause,
 * otherwise the reason the command could not run (e.g. no such executable in the container).
 */
export function exitCodeOf(status: unknown): { exitCode: number } | { reason: string } {
  const s = (typeof status === 'object' && status !== null ? status : {}) as {
    status?: unknown;
    reason?: unknown;
    message?: unknown;
    details?: { causes?: { reason?: unknown; message?: unknown }[] };
  };
  if (s.status === 'Success') return { exitCode: 0 };
  if (s.reason === 'NonZeroExitCode') {
    const code = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    if (typeof code === 'string' && /^\d{1,3}$/.test(code)) return { exitCode: Number(code) };
  }
  return { reason: typeof s.message === 'string' && s.message !== '' ? s.message : 'the API server reported a failure without a message' };
}

async function execInPod(target: KubeExecTarget, argv: readonly string[], { input, timeoutMs, signal }: Launch): Promise<LaunchOutcome> {
  // Read on every run: the kubelet rotates the projected token.
  const [tokenRead, caRead] = await Promise.allSettled([
    readBoundedFile(join(target.serviceAccountDir, 'token'), FILE_LIMITS.secret),
    readBoundedFile(join(target.serviceAccountDir, 'ca.crt'), FILE_LIMITS.config),
  ]);
  // Both are read at once, but a problem is named in a fixed order (the token first), not by
  // whichever read lost the race: the same broken mount gives the same message every time.
  const unreadable = (reason: unknown): LaunchOutcome => ({ kind: 'not-started', reason: `the service account credentials: ${(reason as Error).message}` });
  if (tokenRead.status === 'rejected') return unreadable(tokenRead.reason);
  if (caRead.status === 'rejected') return unreadable(caRead.reason);
  const token = tokenRead.value.trim();
  const ca = caRead.value;
  try {
    return await withDeadline(timeoutMs, signal, (deadline) => exchange(execUrl(target, argv, input !== undefined), token, ca, input, deadline));
  } catch (err) {
    if (signal?.aborted) return { kind: 'stopped' };
    return { kind: 'not-started', reason: (err as Error).message };
  }
}

/** One exec session: connect, feed stdin, collect stdout/stderr until the final Status. */
function exchange(url: string, token: string, ca: string, input: string | undefined, deadline: AbortSignal): Promise<LaunchOutcome> {
  return new Promise((resolve, reject) => {
    const out: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
    const size: Record<1 | 2, number> = { 1: 0, 2: 0 };
    let settled = false;
    const ws = new WebSocket(url, PROTOCOLS, { headers: { Authorization: `Bearer ${token}` }, ca, maxPayload: MAX_FRAME, perMessageDeflate: false });
    const finish = (outcome: LaunchOutcome | Error) => {
      if (settled) return;
      settled = true;
      deadline.removeEventListener('abort', onDeadline);
      ws.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    // A deadline or a shutdown closes the session. The API server does not stop the command
    // for it (Kubernetes has no exec cancel); MAAS's commands here are short and idempotent.
    const onDeadline = () =>
      finish(deadline.reason instanceof DOMException && deadline.reason.name === 'TimeoutError' ? { kind: 'timed-out' } : { kind: 'stopped' });
    deadline.addEventListener('abort', onDeadline, { once: true });
    if (deadline.aborted) onDeadline();

    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (chunks.length < 16) chunks.push(c);
      });
      res.on('end', () => finish(new Error(`the API server refused the exec (HTTP ${res.statusCode}): ${refusal(Buffer.concat(chunks).toString('utf8'))}`)));
      res.on('error', () => finish(new Error(`the API server refused the exec (HTTP ${res.statusCode})`)));
    });
    ws.on('error', (err) => finish(new Error(`no exec session with the API server: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    ws.on('open', () => {
      if (input === undefined) return;
      if (ws.protocol !== 'v5.channel.k8s.io') {
        // v4 cannot end stdin without ending the session: the command would wait for ever.
        finish(
          new Error(
            `the API server speaks ${ws.protocol || 'no channel protocol'}, not v5.channel.k8s.io (Kubernetes 1.30 or newer), which standard input needs`,
          ),
        );
        return;
      }
      ws.send(Buffer.concat([Buffer.of(STREAM.stdin), Buffer.from(input, 'utf8')]));
      ws.send(Buffer.of(STREAM.close, STREAM.stdin));
    });
    ws.on('message', (data, isBinary) => {
      const frame = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (!isBinary || frame.length === 0) return finish(new Error('the API server sent a frame outside the channel protocol'));
      const stream = frame[0];
      const body = frame.subarray(1);
      if (stream === STREAM.stdout || stream === STREAM.stderr) {
        size[stream] += body.length;
        if (size[stream] > MAX_OUTPUT) return finish(new Error(`the command wrote more than ${MAX_OUTPUT} bytes to ${stream === 1 ? 'stdout' : 'stderr'}`));
        out[stream].push(body);
      } else if (stream === STREAM.status) {
        let status: unknown;
        try {
          status = JSON.parse(body.toString('utf8'));
        } catch {
          return finish(new Error('the API server sent a final status that is not JSON'));
        }
        const result = exitCodeOf(status);
        if ('reason' in result) return finish({ kind: 'not-started', reason: result.reason });
        finish({ kind: 'exited', exitCode: result.exitCode, stdout: Buffer.concat(out[1]).toString('utf8'), stderr: Buffer.concat(out[2]).toString('utf8') });
      }
      // [255, n]: the server closed stream n; the Status still follows.
      return undefined;
    });
    ws.on('close', () => finish(new Error("the exec session ended without the command's exit status")));
  });
}

/** A refusal's message: the Status body's `message` when it is one, else the start of the text. */
function refusal(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message.slice(0, 300);
  } catch {
    // Not a Status: a proxy's page, say.
  }
  return body.trim().slice(0, 300) || 'no reason given';
}

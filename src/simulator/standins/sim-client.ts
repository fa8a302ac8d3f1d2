import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { withDeadline } from '../../util/deadline.ts';

/**
 * How the stand-ins talk to the simulator's control API: node:http, not fetch. Each stand-in is a
 * process of its own, and fetch's first call loads undici (≈0.13 s of CPU per process), which a
 * 50-rack rotation would pay 50 times: the benchmark should measure the sidecars, not the stand-ins.
 */
export async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = JSON.stringify(body);
  const { status, text } = await withDeadline(
    10_000,
    undefined,
    (signal) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const request = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
        const req = request(
          url,
          { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, signal },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        // At the deadline the request errors with a bare AbortError: say it timed out.
        req.on('error', (err) => reject(signal.aborted ? (signal.reason as Error) : err));
        req.end(payload);
      }),
  );
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { error: text };
  }
  return { status, json };
}

/** argparse's complaint, exit code 2. */
export function usageError(prog: string, usage: string, message: string): number {
  process.stderr.write(`usage: ${usage}\n${prog}: error: ${message}\n`);
  return 2;
}

/** All of standard input, as a CLI reads a secret piped to it. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

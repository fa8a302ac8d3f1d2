import { withDeadline } from '../../util/deadline.ts';

/** How the stand-ins talk to the simulator's control API. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const { status, text } = await withDeadline(10_000, undefined, async (signal) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
    return { status: response.status, text: await response.text() };
  });
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

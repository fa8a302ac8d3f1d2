/** How the stand-ins talk to the simulator's control API. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { error: text };
  }
  return { status: response.status, json };
}

/** argparse's complaint, exit code 2. */
export function usageError(prog: string, usage: string, message: string): number {
  process.stderr.write(`usage: ${usage}\n${prog}: error: ${message}\n`);
  return 2;
}

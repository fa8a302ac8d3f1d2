/** One raw request to a MAAS API 2.0 (`/MAAS/api/2.0/<path>`), under a deadline; the answer as text. */
import { withDeadline } from '../../src/util/deadline.js';
import { scaled } from './time.js';

export interface MaasAnswer {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
  json(): unknown;
}

export type FormFields = Readonly<Record<string, string | readonly string[]>>;

export async function maasRequest(url: string, method: string, path: string, options: { form?: FormFields; authorization?: string } = {}): Promise<MaasAnswer> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(options.form ?? {})) {
    for (const item of typeof value === 'string' ? [value] : value) body.append(key, item);
  }
  return withDeadline(scaled(30_000), undefined, async (signal) => {
    const response = await fetch(`${url}/api/2.0/${path}`, {
      method,
      headers: {
        ...(options.authorization ? { authorization: options.authorization } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(options.form ? { body: body.toString() } : {}),
      signal,
    });
    const text = await response.text();
    return { status: response.status, text, contentType: response.headers.get('content-type') ?? '', json: () => JSON.parse(text) as unknown };
  });
}

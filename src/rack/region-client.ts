/**
 * The rack's client of the region sidecar's /v1 API. Everything received is validated before use;
 * a malformed answer is an error of its own kind, never acted on.
 */
import { RackStatusSchema, RegionInfoSchema, type RackStatus, type RegionInfo } from '../protocol/v1.js';
import { MalformedAnswerError, RegionTlsError, RegionUnavailableError, SidecarError } from '../errors.js';
import { whyNoAnswer, withDeadline } from '../util/deadline.js';
import { compileSchema } from '../util/json-schema.js';
import { describeTlsFailure, plainTransport, type HttpTransport } from '../http/tls-client.js';

export type WatchResult =
  { readonly kind: 'changed'; readonly info: RegionInfo } | { readonly kind: 'unchanged' } | { readonly kind: 'notReady'; readonly reason: string };

const regionInfo = compileSchema<RegionInfo>(RegionInfoSchema);
const rackStatus = compileSchema<RackStatus>(RackStatusSchema);

/** The secret must be hex, the URL http(s) with a host: a rack never registers with anything else. */
export function validateRegionInfo(body: unknown): RegionInfo {
  if (!regionInfo.check(body)) {
    const first = regionInfo.errors(body)[0];
    throw new MalformedAnswerError(`region answer does not match /v1/region: ${first ? `${first.instancePath || '/'} ${first.message}` : 'unknown shape'}`);
  }
  let url: URL;
  try {
    url = new URL(body.url);
  } catch {
    throw new MalformedAnswerError('region answer carries a URL that does not parse');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.hostname === '' || url.username !== '' || url.password !== '') {
    throw new MalformedAnswerError('region answer carries a URL that is not http(s) with a host');
  }
  if (!body.ready) throw new MalformedAnswerError('region answered 200 but not ready');
  return { ...body, url: body.url.replace(/\/+$/, '') };
}

export interface RegionClientOptions {
  readonly baseUrl: string;
  /** The token sent now (a function: the rack re-reads its token file when it changes). */
  readonly token: string | (() => string);
  readonly timeoutMs: number;
  /** How requests are sent: plain fetch for http://, a TLS-verifying client for https:// (tlsTransport). */
  readonly transport?: HttpTransport;
}

export class RegionClient {
  constructor(private readonly options: RegionClientOptions) {}

  /** Long-polls /v1/region: answers at once when `seen` is stale, else within `waitSeconds`. */
  watch(seen: string | undefined, waitSeconds: number, signal: AbortSignal): Promise<WatchResult> {
    const init: RequestInit = { headers: seen ? { 'if-none-match': `"${seen}"` } : {} };
    return this.#call(`/v1/region?wait=${waitSeconds}`, init, this.options.timeoutMs + waitSeconds * 1000, signal, async (response) => {
      if (response.status === 304) return { kind: 'unchanged' };
      const body = await this.#json(response);
      if (response.status === 503) {
        const reason = typeof (body as { reason?: unknown })?.reason === 'string' ? (body as { reason: string }).reason : 'not ready';
        return { kind: 'notReady', reason: reason.slice(0, 200) };
      }
      if (response.status === 401)
        throw new RegionUnavailableError(
          `region sidecar answered 401 (unauthorized): it accepts neither the token in SIDECAR_TOKEN_FILE nor, where it asks for one, this rack's client certificate`,
        );
      if (response.status !== 200) throw new RegionUnavailableError(`region sidecar answered ${response.status}`);
      const info = validateRegionInfo(body);
      const etag = response.headers.get('etag');
      if (etag !== null && etag !== `"${info.generation}"`) throw new MalformedAnswerError('region answer ETag does not match its generation');
      return { kind: 'changed', info };
    });
  }

  rackStatus(hostname: string, signal: AbortSignal): Promise<RackStatus> {
    return this.#call(`/v1/racks/${encodeURIComponent(hostname)}`, {}, this.options.timeoutMs, signal, async (response) => {
      if (response.status !== 200) throw new RegionUnavailableError(`region sidecar answered ${response.status} for this rack's status`);
      const body = await this.#json(response);
      if (!rackStatus.check(body)) throw new MalformedAnswerError('rack status answer does not match /v1/racks');
      if (body.hostname !== hostname) throw new MalformedAnswerError('rack status answer is about another rack');
      return body;
    });
  }

  requestReconcile(signal: AbortSignal): Promise<void> {
    return this.#call('/v1/reconcile', { method: 'POST' }, this.options.timeoutMs, signal, async (response) => {
      await response.body?.cancel();
      if (response.status !== 202) throw new RegionUnavailableError(`region sidecar answered ${response.status} to a reconcile request`);
    });
  }

  /**
   * One request, headers and body, under one deadline. Stopping (`signal`) propagates as is;
   * anything else that keeps the answer from arriving means the region is unavailable.
   */
  #call<T>(path: string, init: RequestInit, timeoutMs: number, signal: AbortSignal, read: (response: Response) => Promise<T>): Promise<T> {
    return withDeadline(timeoutMs, signal, async (deadline) => {
      try {
        const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
        const response = await (this.options.transport ?? plainTransport).fetch(`${this.options.baseUrl}${path}`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
          redirect: 'error',
          signal: deadline,
        });
        return await read(response);
      } catch (err) {
        if (err instanceof SidecarError || signal.aborted) throw err;
        const tls = deadline.aborted ? undefined : describeTlsFailure(err, this.options.baseUrl);
        if (tls) throw new RegionTlsError(`region sidecar unreachable: ${tls.message}`, tls.refused, { cause: err });
        throw new RegionUnavailableError(`region sidecar unreachable: ${whyNoAnswer(err, deadline, timeoutMs)}`, { cause: err });
      }
    });
  }

  async #json(response: Response): Promise<unknown> {
    const text = await response.text();
    if (text.length > 64 * 1024) throw new MalformedAnswerError('region answer is too large');
    try {
      return JSON.parse(text);
    } catch {
      throw new MalformedAnswerError(`region answer (${response.status}) is not JSON`);
    }
  }
}

/**
 * The rack's HTTP client of the region sidecar: the global fetch for http://, and for https:// an
 * undici Agent that trusts only the configured CA (and presents a client certificate for mutual
 * TLS). undici is imported only when https is used; the Agent is replaced when the files change.
 */
import type { Logger } from 'pino';
import { loadCaFile, loadTlsMaterial, type CertificateSummary, type TlsFiles } from './tls.js';
import { EVENTS } from '../protocol/events.js';

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpTransport {
  readonly fetch: Fetch;
  /** Re-reads the TLS files (after they changed); a throw keeps the client in use. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export const plainTransport: HttpTransport = {
  fetch: (url, init) => fetch(url, init),
  reload: async () => undefined,
  close: async () => undefined,
};

export interface ClientTlsFiles {
  readonly ca: { readonly variable: string; readonly path: string };
  readonly client: TlsFiles | undefined;
}

export interface TlsTransportOptions {
  /** The client certificate put in use, at the first request and after each re-read (for recordCertificateExpiry). */
  readonly onClientCertificate?: (leaf: CertificateSummary) => void;
}

type Undici = typeof import('./undici.js');
type Agent = InstanceType<Undici['Agent']>;

/**
 * https:// to the region sidecar: the server's certificate must chain to `ca` and name the host of
 * the URL (Node's checkServerIdentity, which undici applies with the URL's host as servername).
 */
export function tlsTransport(files: ClientTlsFiles, logger: Logger, options: TlsTransportOptions = {}): HttpTransport {
  let undici: Undici | undefined;
  let agent: Agent | undefined;
  const build = async (): Promise<Agent> => {
    undici ??= await import('./undici.js');
    const ca = await loadCaFile(files.ca.variable, files.ca.path);
    const client = files.client === undefined ? undefined : await loadTlsMaterial(files.client);
    const built = new undici.Agent({ connect: { ca, ...(client === undefined ? {} : { cert: client.cert, key: client.key }), rejectUnauthorized: true } });
    // Only once everything loaded: a failed re-read keeps the Agent, and the certificate, in use.
    if (client !== undefined) options.onClientCertificate?.(client.leaf);
    return built;
  };
  let building: Promise<Agent> | undefined;
  const current = async (): Promise<Agent> => {
    if (agent !== undefined) return agent;
    building ??= build().finally(() => {
      building = undefined;
    });
    agent = await building;
    return agent;
  };
  return {
    async fetch(url, init) {
      const dispatcher = await current();
      // undici's own fetch with its own Agent: the global fetch may be another undici version.
      return (await undici!.fetch(url, { ...(init as Parameters<Undici['fetch']>[1]), dispatcher })) as unknown as Response;
    },
    async reload() {
      const next = await build();
      const previous = agent;
      agent = next;
      // Requests in flight (a long-poll) finish on the old connections; new ones use the new files.
      void previous?.close().catch(() => undefined);
      logger.info({ event: EVENTS.tlsReloaded, ca: files.ca.path }, 'region sidecar CA and client certificate re-read');
    },
    async close() {
      await agent?.close().catch(() => undefined);
    },
  };
}

/** OpenSSL and Node codes of a certificate the client refused, by what an operator should check. */
const NOT_TRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

/** The code of a fetch failure's cause (undici wraps the socket's error), or of the error itself. */
function codeOf(err: unknown): { code: string; message: string } {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return { code, message: e.message };
    e = e.cause;
  }
  return { code: '', message: err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err) };
}

/**
 * What went wrong with TLS on a request to `url`, in words an operator can act on, or undefined
 * when the failure is not about TLS. `refused` is true when this client refused the server's
 * certificate (counted as a rejected input).
 */
export function describeTlsFailure(err: unknown, url: string): { readonly message: string; readonly refused: boolean } | undefined {
  const { code, message } = codeOf(err);
  const https = url.startsWith('https:');
  const host = URL.canParse(url) ? new URL(url).host : url;
  if (NOT_TRUSTED.has(code)) return { refused: true, message: `the region sidecar's certificate is not signed by a CA in REGION_SIDECAR_CA_FILE (${code})` };
  if (code === 'CERT_HAS_EXPIRED') return { refused: true, message: `the region sidecar's certificate has expired (${code}): is cert-manager renewing it?` };
  if (code === 'CERT_NOT_YET_VALID') return { refused: true, message: `the region sidecar's certificate is not valid yet (${code}): check the clocks` };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return { refused: true, message: `the region sidecar's certificate does not name ${host}, the host in REGION_SIDECAR_URL (${code})` };
  if (https && /wrong version number|packet length too long|unknown protocol|record layer failure/i.test(`${code} ${message}`)) {
    return {
      refused: false,
      message: `${host} does not speak TLS (${code || message}): it serves plain HTTP, so REGION_SIDECAR_URL should be http://, or the region sidecar lacks SIDECAR_TLS_CERT_FILE`,
    };
  }
  if (https && /^ERR_SSL_|^ERR_TLS_/.test(code)) return { refused: false, message: `TLS with the region sidecar failed (${code}): ${message.slice(0, 200)}` };
  if (!https && ['UND_ERR_SOCKET', 'ECONNRESET', 'UND_ERR_CLOSED'].includes(code)) {
    return {
      refused: false,
      message: `${host} closed the connection without an answer (${code}): if the region sidecar serves TLS, REGION_SIDECAR_URL must be https:// with REGION_SIDECAR_CA_FILE`,
    };
  }
  return undefined;
}

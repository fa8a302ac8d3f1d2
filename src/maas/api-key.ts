import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { REDACTED } from '../util/scrub.js';

const PART = /^[A-Za-z0-9]+$/;

/**
 * A MAAS API key `consumer_key:token_key:token_secret`. It never prints its parts: toString,
 * JSON and util.inspect all show `[redacted]`, so an accidental log line cannot leak it.
 */
export class ApiKey {
  readonly #consumerKey: string;
  readonly #tokenKey: string;
  readonly #tokenSecret: string;

  private constructor(consumerKey: string, tokenKey: string, tokenSecret: string) {
    this.#consumerKey = consumerKey;
    this.#tokenKey = tokenKey;
    this.#tokenSecret = tokenSecret;
  }

  /** Parses `ck:tk:ts`; the error message describes the shape, never the value. */
  static parse(text: string): ApiKey {
    const parts = text.trim().split(':');
    if (parts.length !== 3 || !parts.every((part) => PART.test(part))) {
      throw new TypeError('an API key must be three alphanumeric parts "consumer_key:token_key:token_secret"');
    }
    const [ck, tk, ts] = parts as [string, string, string];
    return new ApiKey(ck, tk, ts);
  }

  /** The parts that must be scrubbed from anything MAAS echoes back (see MaasClient). */
  get sensitiveParts(): readonly string[] {
    return [this.#tokenKey, this.#tokenSecret];
  }

  /** The full `ck:tk:ts` text, for writing the key to its file. */
  reveal(): string {
    return `${this.#consumerKey}:${this.#tokenKey}:${this.#tokenSecret}`;
  }

  /**
   * OAuth 1.0 PLAINTEXT header as MAAS's own client sends it. The consumer secret is always
   * empty, so the signature is `&<token_secret>`; values are percent-encoded (piston decodes them).
   */
  authorizationHeader(): string {
    const params: [string, string][] = [
      ['oauth_version', '1.0'],
      ['oauth_signature_method', 'PLAINTEXT'],
      ['oauth_consumer_key', this.#consumerKey],
      ['oauth_token', this.#tokenKey],
      ['oauth_signature', `&${this.#tokenSecret}`],
      ['oauth_nonce', randomBytes(16).toString('hex')],
      ['oauth_timestamp', String(Math.floor(Date.now() / 1000))],
    ];
    return `OAuth ${params.map(([k, v]) => `${k}="${encodeURIComponent(v)}"`).join(', ')}`;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `ApiKey(${REDACTED})`;
  }
}

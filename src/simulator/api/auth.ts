/**
 * OAuth 1.0 checks as MAAS (django-piston) makes them: PLAINTEXT only, 300 s timestamp window,
 * nonces single-use per token, and MAAS's exact status codes and texts.
 */
import { timingSafeEqual } from 'node:crypto';
import { ApiError, type Params } from './support.js';
import type { SimModel, SimUser } from '../model.js';

const REQUIRED = ['oauth_consumer_key', 'oauth_token', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_nonce'] as const;

export const TIMESTAMP_THRESHOLD_S = 300;

const forbidden = (): ApiError => new ApiError(401, 'Forbidden');
/** piston answers OAuth failures as HTML-typed text with a challenge. */
const authError = (message: string): ApiError =>
  new ApiError(401, `Authorization Error: ${message}`, { 'WWW-Authenticate': 'OAuth realm="OAuth"', 'Content-Type': 'text/html; charset=utf-8' });

/** piston's _split_header: strip quotes, percent-decode, ignore any part mentioning realm. */
export function parseOAuthHeader(header: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const part of header.slice('OAuth '.length).split(',')) {
    if (part.includes('realm')) continue;
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"|"$/g, '');
    try {
      result.set(key, decodeURIComponent(raw));
    } catch {
      result.set(key, raw);
    }
  }
  return result;
}

export function authenticate(model: SimModel, header: string | undefined, params: Params, nowMs: number): SimUser {
  const oauth = header?.startsWith('OAuth ') ? parseOAuthHeader(header) : new Map<string, string>();
  for (const name of REQUIRED) {
    const fromParams = params.get(name);
    if (!oauth.has(name) && fromParams !== undefined) oauth.set(name, fromParams);
  }
  if (!REQUIRED.every((name) => oauth.has(name))) throw forbidden();
  const get = (name: (typeof REQUIRED)[number]): string => oauth.get(name) ?? '';

  const consumerKey = get('oauth_consumer_key');
  if (!model.tokens.some((t) => t.consumerKey === consumerKey)) throw authError('Invalid API key.');
  const token = model.tokens.find((t) => t.consumerKey === consumerKey && t.tokenKey === get('oauth_token'));
  if (!token) throw authError(`'Invalid access token: ${get('oauth_token')}'`);

  const timestampText = get('oauth_timestamp');
  if (!/^\d+$/.test(timestampText)) throw new ApiError(400, `Bad Request: invalid oauth_timestamp '${timestampText}'`);
  const now = Math.floor(nowMs / 1000);
  if (now - Number(timestampText) > TIMESTAMP_THRESHOLD_S) {
    throw authError(`'Expired timestamp: given ${timestampText} and now ${now} has a greater difference than threshold ${TIMESTAMP_THRESHOLD_S}'`);
  }
  const nonceKey = `${token.tokenKey}:${get('oauth_nonce')}`;
  if (model.usedNonces.has(nonceKey)) throw authError(`'Nonce already used: ${get('oauth_nonce')}'`);
  model.usedNonces.add(nonceKey);

  const method = get('oauth_signature_method');
  if (method !== 'PLAINTEXT') {
    throw authError(`'Signature method ${method} not supported try one of the following: PLAINTEXT'`);
  }
  // MAAS's consumer secret is always empty, so PLAINTEXT expects "&<token_secret>". Real piston
  // echoes that expected value, the token secret itself, in the error: so does the simulator, so
  // that clients are tested against the leak they must scrub.
  if (!safeEqual(get('oauth_signature'), `&${token.tokenSecret}`)) {
    throw authError(`'Invalid signature. Expected signature base string: &${token.tokenSecret}'`);
  }

  const user = model.users.get(token.userId);
  if (!user) throw authError('Invalid API key.');
  if (!user.isActive) throw new ApiError(403, 'User is not allowed access to this API.');
  return user;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

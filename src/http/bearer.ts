/** Bearer-token authentication in constant time; failures learn nothing but 401. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The tokens accepted: one, or while rotating two (the current and the next), or a function
 * returning them now (the region re-reads its token file when it changes).
 */
export type TokenSource = string | readonly string[] | (() => readonly string[]);

/**
 * The credentials of `Authorization: Bearer <token>`, or '' when the header is absent or names
 * another scheme. The scheme is case-insensitive and followed by one or more spaces (RFC 9110
 * §11.1, §11.4); the token itself is compared exactly.
 */
export function bearerToken(header: string | undefined): string {
  const match = header === undefined ? null : /^bearer +(\S.*)$/i.exec(header);
  return match?.[1] ?? '';
}

/**
 * Which of `tokens` `given` is (0 or 1), or -1. Every token is compared, whichever matches, and
 * digests are compared rather than strings, so the time depends neither on where the strings
 * differ nor on which token matched.
 */
export function matchToken(given: string, tokens: readonly string[]): number {
  const mine = digest(given);
  let found = -1;
  for (const [i, token] of tokens.entries()) {
    if (timingSafeEqual(mine, digest(token)) && found === -1) found = i;
  }
  return given === '' ? -1 : found;
}

/**
 * A hook that admits only `Authorization: Bearer <token>`. Register it as `onRequest`, so that
 * nothing (query, headers, body, content type, path) is parsed or validated for a stranger.
 * `onAccept` learns which token was used (0: the first line of the token file, 1: the second).
 */
export function bearerAuth(source: TokenSource, onReject: () => void, onAccept?: (index: number) => void) {
  const tokens = typeof source === 'function' ? source : (): readonly string[] => (typeof source === 'string' ? [source] : source);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const index = matchToken(bearerToken(request.headers.authorization), tokens());
    if (index !== -1) {
      onAccept?.(index);
      return undefined;
    }
    onReject();
    reply.header('WWW-Authenticate', 'Bearer');
    return sendError(reply, 401);
  };
}

/**
 * Puts a /v1 context behind the token: bearerAuth as its first hook, and unknown routes (and
 * methods a route lacks) answered 404 only after it, so a stranger learns nothing but 401.
 */
export function requireToken(app: FastifyInstance, source: TokenSource, onReject: () => void, onAccept?: (index: number) => void): void {
  app.addHook('onRequest', bearerAuth(source, onReject, onAccept));
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'unknown_route'));
}

/** Bearer-token authentication in constant time; failures learn nothing but 401. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

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
 * A hook that admits only `Authorization: Bearer <token>`. Register it as `onRequest`, so that
 * nothing (query, headers, body, content type, path) is parsed or validated for a stranger.
 */
export function bearerAuth(token: string, onReject: () => void) {
  const expected = digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const given = bearerToken(request.headers.authorization);
    // Comparing digests keeps the time independent of where (or whether) the strings differ.
    if (timingSafeEqual(digest(given), expected) && given !== '') return undefined;
    onReject();
    reply.header('WWW-Authenticate', 'Bearer');
    return sendError(reply, 401);
  };
}

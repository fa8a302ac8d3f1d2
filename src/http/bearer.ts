/** Bearer-token authentication in constant time; failures learn nothing but 401. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A preHandler hook that admits only `Authorization: Bearer <token>`. */
export function bearerAuth(token: string, onReject: () => void) {
  const expected = digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    // Comparing digests keeps the time independent of where (or whether) the strings differ.
    if (!timingSafeEqual(digest(given), expected) || given === '') {
      onReject();
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'unauthorized' });
    }
  };
}

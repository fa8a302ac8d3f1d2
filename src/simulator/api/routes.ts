/** Mounts the simulated MAAS API 2.0 at /MAAS/api/2.0/: parse params, authenticate, dispatch, render. */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from './auth.js';
import { ApiError, Params, pickHandler, sendResult, type OpTable } from './support.js';
import { subnetResource, subnetsCollection } from './subnets.js';
import { fabricResource, fabricsCollection, vlanResource, vlansCollection } from './vlans.js';
import { iprangeResource, iprangesCollection } from './ipranges.js';
import { bootResourcesCollection, maasResource, rackControllerResource, rackControllersCollection, usersCollection, versionResource } from './region.js';
import type { SimModel } from '../model.js';

const API_HASH = createHash('sha1').update('maas-sidecar simulator API 2.0').digest('hex');

const RESOURCES: ReadonlyArray<readonly [string, OpTable, { anonymous?: boolean }?]> = [
  ['version/', versionResource, { anonymous: true }],
  ['users/', usersCollection],
  ['subnets/', subnetsCollection],
  ['subnets/:id/', subnetResource],
  ['fabrics/', fabricsCollection],
  ['fabrics/:fabric_id/', fabricResource],
  ['fabrics/:fabric_id/vlans/', vlansCollection],
  ['fabrics/:fabric_id/vlans/:vid/', vlanResource],
  ['ipranges/', iprangesCollection],
  ['ipranges/:id/', iprangeResource],
  ['rackcontrollers/', rackControllersCollection],
  ['rackcontrollers/:system_id/', rackControllerResource],
  ['boot-resources/', bootResourcesCollection],
  ['maas/', maasResource],
];

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

/** Query string first, then the body, so a body value wins as Django's request.data does. */
async function readParams(request: FastifyRequest): Promise<Params> {
  const entries: [string, string][] = [];
  const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  for (const [key, value] of new URLSearchParams(rawQuery)) entries.push([key, value]);
  if (Buffer.isBuffer(request.body) && request.body.length > 0) {
    // undici's Response parses both urlencoded and multipart bodies, boundaries and all.
    const contentType = request.headers['content-type'] ?? '';
    let form: FormData;
    try {
      form = await new Response(request.body, { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new ApiError(400, 'Bad Request: could not parse the request body');
    }
    for (const [key, value] of form) entries.push([key, typeof value === 'string' ? value : await value.text()]);
  }
  return new Params(entries);
}

export function registerApiRoutes(app: FastifyInstance, model: SimModel, now: () => number): void {
  app.addContentTypeParser(FORM_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const serve = async (request: FastifyRequest, reply: FastifyReply, table: OpTable, anonymous: boolean) => {
    reply.header('X-MAAS-API-Hash', API_HASH);
    const params = await readParams(request);
    const handler = pickHandler(table, request, params);
    const user = anonymous
      ? { id: 0, username: 'anonymous', email: '', password: '', isSuperuser: false, isActive: true }
      : authenticate(model, request.headers.authorization, params, now());
    const path = request.params as Record<string, string>;
    return sendResult(reply, await handler({ model, params, user, path }));
  };

  for (const [url, table, options] of RESOURCES) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE'],
      url: `/MAAS/api/2.0/${url}`,
      handler: (request, reply) => serve(request, reply, table, options?.anonymous ?? false),
    });
  }
  app.get('/MAAS/api/version/', (_request, reply) => reply.type('text/plain').send('2.0'));
}

/** Renders ApiError exactly as MAAS would: JSON field dicts as JSON, the rest as text/plain. */
export function sendApiError(reply: FastifyReply, err: ApiError): FastifyReply {
  const { 'Content-Type': contentType = 'text/plain; charset=utf-8', ...headers } = err.headers;
  reply.code(err.status).headers({ 'X-MAAS-API-Hash': API_HASH, ...headers });
  if (typeof err.body === 'string') return reply.type(contentType).send(err.body);
  return reply.type('application/json').send(JSON.stringify(err.body));
}

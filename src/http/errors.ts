/**
 * The one shape of every error the server sends: `{error, reason}`. `error` is the status's
 * phrase, `reason` a short fixed code; neither ever carries anything from the request or from an
 * internal message. The details go to the log.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';

export interface ErrorBody {
  readonly error: string;
  readonly reason?: string;
}

export function errorBody(status: number, reason?: string): ErrorBody {
  const error = status === 500 ? 'internal error' : (STATUS_CODES[status] ?? 'error').toLowerCase();
  return reason === undefined ? { error } : { error, reason };
}

/**
 * Sends `{error, reason}` serialized as is, whatever response schema the route declares for the
 * status (a 503 from shutdown on a route whose 503 means "not ready" still has this shape).
 */
export function sendError(reply: FastifyReply, status: number, reason?: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').serializer(JSON.stringify).send(errorBody(status, reason));
}

/** Fastify's own errors, by code: the status they carry and the reason sent. */
const FRAMEWORK_REASONS: Readonly<Record<string, readonly [number, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_body'],
  // A safety net: over HTTP the server's rewriteUrl escapes undecodable paths, and maxParamLength
  // is above the parser's header limit, so these two are seen only through inject().
  FST_ERR_BAD_URL: [400, 'bad_url'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long'],
};

const VALIDATION_PARTS: Readonly<Record<string, string>> = { querystring: 'query', params: 'path', headers: 'header', body: 'body' };

interface FastifyishError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly validation?: readonly { readonly instancePath?: string }[];
  readonly validationContext?: string;
}

/**
 * Which input failed validation, named by the route's schema (`invalid_wait`, `invalid_hostname`),
 * never by what the client sent: a query parameter the schema does not know is `unknown_parameter`.
 */
function validationReason(err: FastifyishError, request: FastifyRequest): string {
  const part = err.validationContext ?? 'body';
  const schema = (request.routeOptions.schema as Record<string, { properties?: Record<string, unknown> } | undefined> | undefined)?.[part];
  const name = err.validation?.[0]?.instancePath?.split('/')[1];
  if (name !== undefined && name !== '') {
    if (schema?.properties && Object.hasOwn(schema.properties, name) && /^[a-z][a-z0-9-]*$/.test(name)) return `invalid_${name.replaceAll('-', '_')}`;
    if (part === 'querystring') return 'unknown_parameter';
  }
  return `invalid_${VALIDATION_PARTS[part] ?? 'request'}`;
}

/** The status and reason an error is answered with. */
export function classify(err: unknown, request: FastifyRequest): { status: number; reason: string } {
  if (err instanceof HttpError) return { status: err.statusCode, reason: err.reason };
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyishError;
  if (e.validation) return { status: 400, reason: validationReason(e, request) };
  const known = e.code === undefined ? undefined : FRAMEWORK_REASONS[e.code];
  if (known) return { status: known[0], reason: known[1] };
  // A body that is not JSON: fastify's parser marks the SyntaxError with 400.
  if (err instanceof SyntaxError && e.statusCode === 400) return { status: 400, reason: 'invalid_body' };
  const status = e.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, reason: errorBody(status).error.replace(/[^a-z]+/g, '_') };
  return { status: 500, reason: 'internal' };
}

/** The error handler: one answer shape; a warn line for known upstream faults, an error line (with stack) only for bugs. */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, reason } = classify(err, request);
  if (err instanceof HttpError) {
    if (status >= 500) request.log.warn({ reason, ...(err.detail === undefined ? {} : { detail: err.detail }) }, err.message);
  } else if (status === 500) {
    request.log.error({ err }, 'request failed');
  } else if (status < 500) {
    request.log.debug({ reason }, 'request refused');
  }
  return sendError(reply, status, reason);
}

/** Errors fastify meets before a route is chosen (a URL it cannot decode, an over-long parameter). */
export function handleFrameworkError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, reason } = classify(err, request);
  void sendError(reply, status, reason);
}

/** What the HTTP parser refuses before fastify sees a request (headers too large, timeouts, garbage). */
export function handleClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large']
        : [400, 'malformed_request'];
  const body = JSON.stringify(errorBody(status, reason));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

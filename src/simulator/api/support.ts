/** What every simulated MAAS handler shares: errors as MAAS renders them, form params, op dispatch. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimModel, SimUser } from '../model.js';

/** A MAAS error answer: a JSON field-error dict, or a plain-text body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string | Record<string, string[]>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export const notFound = (model: string): ApiError => new ApiError(404, `No ${model} matches the given query.`);

export const adminOnly = (user: SimUser): void => {
  if (!user.isSuperuser) throw new ApiError(403, 'This method is reserved for admin users.');
};

/** Collects form errors the way a Django form does: field → messages, non-field under `__all__`. */
export class FormErrors {
  readonly #errors: Record<string, string[]> = {};

  add(field: string, message: string): void {
    (this.#errors[field] ??= []).push(message);
  }

  has(field: string): boolean {
    return field in this.#errors;
  }

  throwIfAny(): void {
    if (Object.keys(this.#errors).length > 0) throw new ApiError(400, this.#errors);
  }
}

/** Request parameters (query string merged under the form body), with QueryDict's get/getlist. */
export class Params {
  constructor(private readonly entries: ReadonlyArray<readonly [string, string]>) {}

  has(name: string): boolean {
    return this.entries.some(([key]) => key === name);
  }

  /** The last value, as Django's QueryDict.get returns. */
  get(name: string): string | undefined {
    return this.entries.filter(([key]) => key === name).at(-1)?.[1];
  }

  getAll(name: string): string[] {
    return this.entries.filter(([key]) => key === name).map(([, value]) => value);
  }

  names(): string[] {
    return [...new Set(this.entries.map(([key]) => key))];
  }
}

/** Django BooleanField: "false" and "0" (any case) are false, the empty string is false, the rest true. */
export function djangoBoolean(value: string): boolean {
  return !['false', '0', ''].includes(value.toLowerCase());
}

export const invalidChoice = (value: string): string => `Select a valid choice. ${value} is not one of the available choices.`;

export interface Ctx {
  readonly model: SimModel;
  readonly params: Params;
  readonly user: SimUser;
  readonly path: Readonly<Record<string, string>>;
}

export type Handler = (ctx: Ctx) => unknown;
/** method → op ('' for none) → handler. */
export type OpTable = Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Readonly<Record<string, Handler>>>>;

/** Picks the handler for method and `op`, answering as piston does when there is none. */
export function pickHandler(table: OpTable, request: FastifyRequest, params: Params): Handler {
  const method = request.method as keyof OpTable;
  const ops = table[method];
  if (!ops) {
    const allow = Object.keys(table).join(', ');
    throw new ApiError(405, `Method Not Allowed`, { Allow: allow });
  }
  const op = params.get('op') ?? '';
  const handler = ops[op];
  if (!handler) throw new ApiError(400, `Unrecognised signature: method=${request.method} op=${op}`);
  return handler;
}

/** Marks a result to be sent as JSON even when it is a bare string (get_config's `"auto"`). */
export class JsonValue {
  constructor(readonly value: unknown) {}
}

/** Sends a handler's result: strings as text/plain, `undefined` as 204, the rest as JSON. */
export function sendResult(reply: FastifyReply, result: unknown): FastifyReply {
  if (result === undefined) return reply.code(204).send();
  if (result instanceof JsonValue) return reply.type('application/json').send(JSON.stringify(result.value));
  if (typeof result === 'string') return reply.type('text/plain; charset=utf-8').send(result);
  return reply.type('application/json').send(JSON.stringify(result));
}

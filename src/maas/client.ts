/**
 * Typed MAAS REST API 2.0 client: OAuth-signed, every call under a timeout, idempotent reads
 * retried with backoff on connection errors and 5xx, writes sent once.
 */
import { ApiKey } from './api-key.js';
import {
  parseBootResources,
  parseIpRange,
  parseIpRanges,
  parseRackControllers,
  parseSubnet,
  parseSubnets,
  parseUser,
  parseVersion,
  parseVlan,
  type BootResource,
  type IpRange,
  type RackController,
  type Subnet,
  type User,
  type Version,
  type Vlan,
} from './types.js';
import { isTransient, MaasHttpError, MaasResponseError, MaasUnreachableError, type MaasFieldErrors } from '../errors.js';
import type { BackoffPolicy } from '../util/backoff.js';
import { whyNoAnswer, withDeadline } from '../util/deadline.js';
import { retry } from '../util/retry.js';
import { scrub } from '../util/scrub.js';

/** A form value: `null` sends an empty string (MAAS's way to clear a field), arrays repeat the key. */
type FormValue = string | number | boolean | null | readonly string[];
type Form = Readonly<Record<string, FormValue | undefined>>;

export interface RequestEvent {
  /** Bounded label: method, path template and op, e.g. `PUT fabrics/{fabric_id}/vlans/{vid}/`. */
  readonly endpoint: string;
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  readonly seconds: number;
}

export interface MaasClientOptions {
  /** Region URL, e.g. `http://maas:5240/MAAS` (the API lives under `/api/2.0/`). */
  readonly url: string;
  /** Absent for anonymous calls only (`version`). */
  readonly apiKey?: ApiKey;
  readonly timeoutMs?: number;
  /** How many times an idempotent read is tried in all (>= 1). */
  readonly readAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly onRequest?: (event: RequestEvent) => void;
}

export interface SubnetUpdate {
  readonly gateway_ip?: string | null;
  readonly dns_servers?: readonly string[];
}

export interface VlanUpdate {
  readonly dhcp_on?: boolean;
  readonly primary_rack?: string | null;
  readonly secondary_rack?: string | null;
  readonly mtu?: number;
  readonly name?: string;
  readonly relay_vlan?: number | null;
}

export interface IpRangeCreate {
  readonly type: 'dynamic' | 'reserved';
  readonly start_ip: string;
  readonly end_ip: string;
  readonly subnet?: number;
  readonly comment?: string;
}

export type IpRangeUpdate = Partial<IpRangeCreate>;

interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template below `/api/2.0/`, e.g. `subnets/{id}/`. */
  readonly template: string;
  readonly params?: Readonly<Record<string, string | number>>;
  readonly op?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly form?: Form;
  readonly anonymous?: boolean;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5_000 };

export class MaasClient {
  readonly #base: string;
  readonly #apiKey: ApiKey | undefined;
  readonly #timeoutMs: number;
  readonly #readAttempts: number;
  readonly #backoff: BackoffPolicy;
  readonly #onRequest: ((event: RequestEvent) => void) | undefined;

  constructor(options: MaasClientOptions) {
    this.#base = `${options.url.replace(/\/+$/, '')}/api/2.0/`;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#readAttempts = Math.max(1, options.readAttempts ?? 4);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#onRequest = options.onRequest;
  }

  async version(signal?: AbortSignal): Promise<Version> {
    return parseVersion(await this.#json({ method: 'GET', template: 'version/', anonymous: true }, signal));
  }

  async whoami(signal?: AbortSignal): Promise<User> {
    return parseUser(await this.#json({ method: 'GET', template: 'users/', op: 'whoami' }, signal));
  }

  async listSubnets(signal?: AbortSignal): Promise<Subnet[]> {
    return parseSubnets(await this.#json({ method: 'GET', template: 'subnets/' }, signal));
  }

  /** Fields the update omits keep their values (MAAS fills a PUT's missing fields from the subnet). */
  async updateSubnet(id: number, update: SubnetUpdate, signal?: AbortSignal): Promise<Subnet> {
    const form: Form = { ...update, dns_servers: update.dns_servers?.join(' ') };
    return parseSubnet(await this.#json({ method: 'PUT', template: 'subnets/{id}/', params: { id }, form }, signal));
  }

  async getVlan(fabricId: number, vid: number, signal?: AbortSignal): Promise<Vlan> {
    const params = { fabric_id: fabricId, vid };
    return parseVlan(await this.#json({ method: 'GET', template: 'fabrics/{fabric_id}/vlans/{vid}/', params }, signal));
  }

  async updateVlan(fabricId: number, vid: number, update: VlanUpdate, signal?: AbortSignal): Promise<Vlan> {
    const params = { fabric_id: fabricId, vid };
    return parseVlan(await this.#json({ method: 'PUT', template: 'fabrics/{fabric_id}/vlans/{vid}/', params, form: { ...update } }, signal));
  }

  async listIpRanges(signal?: AbortSignal): Promise<IpRange[]> {
    return parseIpRanges(await this.#json({ method: 'GET', template: 'ipranges/' }, signal));
  }

  async createIpRange(create: IpRangeCreate, signal?: AbortSignal): Promise<IpRange> {
    return parseIpRange(await this.#json({ method: 'POST', template: 'ipranges/', form: { ...create } }, signal));
  }

  async updateIpRange(id: number, update: IpRangeUpdate, signal?: AbortSignal): Promise<IpRange> {
    return parseIpRange(await this.#json({ method: 'PUT', template: 'ipranges/{id}/', params: { id }, form: { ...update } }, signal));
  }

  async deleteIpRange(id: number, signal?: AbortSignal): Promise<void> {
    await this.#send({ method: 'DELETE', template: 'ipranges/{id}/', params: { id } }, signal);
  }

  async listRackControllers(signal?: AbortSignal): Promise<RackController[]> {
    return parseRackControllers(await this.#json({ method: 'GET', template: 'rackcontrollers/' }, signal));
  }

  async listBootResources(signal?: AbortSignal): Promise<BootResource[]> {
    return parseBootResources(await this.#json({ method: 'GET', template: 'boot-resources/' }, signal));
  }

  /** Starts an import of boot resources; MAAS answers with a plain-text acknowledgement. */
  async importBootResources(signal?: AbortSignal): Promise<string> {
    return this.#send({ method: 'POST', template: 'boot-resources/', op: 'import' }, signal);
  }

  async isImporting(signal?: AbortSignal): Promise<boolean> {
    const value = await this.#json({ method: 'GET', template: 'boot-resources/', op: 'is_importing' }, signal);
    if (typeof value !== 'boolean') throw new MaasResponseError('MAAS returned a malformed is_importing answer');
    return value;
  }

  /** The setting's JSON value as MAAS stores it (string, list, boolean or null). */
  async getConfig(name: string, signal?: AbortSignal): Promise<unknown> {
    return this.#json({ method: 'GET', template: 'maas/', op: 'get_config', query: { name } }, signal);
  }

  async setConfig(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.#send({ method: 'POST', template: 'maas/', op: 'set_config', form: { name, value } }, signal);
  }

  async #json(call: Call, signal?: AbortSignal): Promise<unknown> {
    const text = await this.#send(call, signal);
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new MaasResponseError(`MAAS ${endpointLabel(call)} returned a body that is not JSON`, { cause });
    }
  }

  /** Sends the call (reads with retries) and returns the 2xx body as text. */
  async #send(call: Call, signal?: AbortSignal): Promise<string> {
    const attempts = call.method === 'GET' ? this.#readAttempts : 1;
    return retry(() => this.#once(call, signal), { backoff: this.#backoff, attempts, retryable: isTransient }, signal);
  }

  async #once(call: Call, signal?: AbortSignal): Promise<string> {
    const endpoint = endpointLabel(call);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (!call.anonymous) {
      if (!this.#apiKey) throw new TypeError(`MAAS ${endpoint} needs an API key`);
      headers.Authorization = this.#apiKey.authorizationHeader();
    }
    let body: string | undefined;
    if (call.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = encodeForm(call.form);
    }
    const started = performance.now();
    let status = 0;
    try {
      return await withDeadline(this.#timeoutMs, signal, async (deadline) => {
        try {
          const response = await fetch(this.#url(call), { method: call.method, headers, body, signal: deadline, redirect: 'error' });
          status = response.status;
          const text = await response.text();
          if (response.ok) return text;
          // Only error bodies are scrubbed: success bodies are data and must stay intact.
          const scrubbed = scrub(text, [EXPECTED_SIGNATURE, ...(this.#apiKey?.sensitiveParts ?? [])]);
          throw new MaasHttpError(status, endpoint, fieldErrorsOf(status, scrubbed), scrubbed);
        } catch (err) {
          if (err instanceof MaasHttpError) throw err;
          if (signal?.aborted) throw signal.reason;
          throw new MaasUnreachableError(`could not reach MAAS for ${endpoint}: ${whyNoAnswer(err, deadline, this.#timeoutMs)}`, { cause: err });
        }
      });
    } finally {
      this.#onRequest?.({ endpoint, status, seconds: (performance.now() - started) / 1000 });
    }
  }

  #url(call: Call): URL {
    const path = call.template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = call.params?.[name];
      if (value === undefined || value === '') throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const url = new URL(path, this.#base);
    if (call.op) url.searchParams.set('op', call.op);
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
    return url;
  }
}

/**
 * Piston answers a wrong signature with a 401 body saying "Invalid signature. Expected signature
 * base string: &<token secret>'": the right token secret, which this client cannot know to scrub
 * by value, so it is scrubbed by its place. It must never travel on in an error.
 */
const EXPECTED_SIGNATURE = /(?<=Expected signature base string: )[^'\s]*/g;

function endpointLabel(call: Call): string {
  return `${call.method} ${call.template}${call.op ? `?op=${call.op}` : ''}`;
}

function encodeForm(form: Form): string {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) body.append(key, item);
    else body.append(key, value === null ? '' : String(value));
  }
  return body.toString();
}

/** MAAS form errors: a JSON object whose values are lists of messages. */
function fieldErrorsOf(status: number, text: string): MaasFieldErrors | undefined {
  if (status !== 400) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed);
  const valid = entries.every(([, v]) => Array.isArray(v) && v.every((m) => typeof m === 'string'));
  return valid ? (Object.fromEntries(entries) as MaasFieldErrors) : undefined;
}

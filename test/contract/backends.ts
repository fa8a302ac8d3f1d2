/**
 * The two MAAS regions a contract scenario runs against, prepared to the same baseline: the
 * provisioning subnet 10.7.200.0/24 on fabric-0's untagged VLAN, two racks with an interface
 * on it, one rack without, and a non-admin user. Ids differ between them; scenarios name them
 * through `refs` (`{subnet}`, `{rack1}`, ...) and responses are compared with the ids put back.
 */
import { execa } from 'execa';
import { ApiKey } from '../../src/maas/api-key.js';
import { maasRequest, type MaasAnswer } from '../helpers/maas-request.js';
import { connectRack } from '../helpers/racks.js';
import { startRealMaas, type RealMaasKit } from '../helpers/real-maas.js';
import { startSimulator, type Teardownable } from '../helpers/simulator.js';
import { scaled } from '../helpers/time.js';

export const CIDR = '10.7.200.0/24';

export type Answer = Pick<MaasAnswer, 'status' | 'text' | 'contentType'>;

/** How a request authenticates: the admin's or the user's key, none, or a deliberately broken OAuth header. */
export type Auth = 'admin' | 'user' | 'none' | 'bad-consumer' | 'bad-token' | 'bad-signature' | 'stale-timestamp' | 'reused-nonce' | 'no-timestamp';

export interface Request {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below `/MAAS/api/2.0/`, with `{ref}` placeholders. */
  readonly path: string;
  readonly form?: Readonly<Record<string, string | readonly string[]>>;
  readonly auth?: Auth;
}

export interface Backend {
  readonly name: 'simulator' | 'real MAAS';
  /** Placeholder → this backend's value: subnet, fabric, vid, vlan (database id), rack1, rack2, rack3 (no interface), tokenSecret. */
  readonly refs: Record<string, string>;
  /** Sends `request` with its `{ref}` placeholders filled from `refs` (the backend's own by default). */
  send(request: Request, refs?: Readonly<Record<string, string>>): Promise<Answer>;
  /** Sets a rack's rackd status as the region records it when rackd connects or drops. */
  rackd(systemId: string, status: 'running' | 'dead'): Promise<void>;
}

export function fill(text: string, refs: Readonly<Record<string, string>>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => refs[name] ?? whole);
}

function sender(url: string, admin: ApiKey, user: ApiKey, baseRefs: Readonly<Record<string, string>>): Backend['send'] {
  return async (request, refs = baseRefs) => {
    const form = request.form
      ? Object.fromEntries(Object.entries(request.form).map(([k, v]) => [k, typeof v === 'string' ? fill(v, refs) : v.map((i) => fill(i, refs))]))
      : undefined;
    const once = (authorization: string | undefined) =>
      maasRequest(url, request.method, fill(request.path, refs), { ...(form ? { form } : {}), ...(authorization ? { authorization } : {}) });
    if (request.auth === 'reused-nonce') {
      const header = admin.authorizationHeader();
      await once(header);
      return once(header);
    }
    return once(headerFor(request.auth ?? 'admin', admin, user));
  };
}

/** The admin's (or user's) own OAuth header, or the admin's with one part broken. */
function headerFor(auth: Exclude<Auth, 'reused-nonce'>, admin: ApiKey, user: ApiKey): string | undefined {
  const header = admin.authorizationHeader();
  const broken = (part: string, value: string | null): string =>
    value === null ? header.replace(new RegExp(`, ${part}="[^"]*"`), '') : header.replace(new RegExp(`${part}="[^"]*"`), `${part}="${value}"`);
  switch (auth) {
    case 'none':
      return undefined;
    case 'admin':
      return admin.authorizationHeader();
    case 'user':
      return user.authorizationHeader();
    case 'bad-consumer':
      return broken('oauth_consumer_key', 'nosuchconsumer0000');
    case 'bad-token':
      return broken('oauth_token', 'nosuchtoken0000000');
    case 'bad-signature':
      return broken('oauth_signature', encodeURIComponent('&wrongsecret'));
    case 'stale-timestamp':
      return broken('oauth_timestamp', String(Math.floor(Date.now() / 1000) - 3 * 3600));
    case 'no-timestamp':
      return broken('oauth_timestamp', null);
  }
}

async function expectOk(answer: Answer, what: string): Promise<unknown> {
  if (answer.status !== 200) throw new Error(`baseline: ${what} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text);
}

export async function simulatorBackend(t: Teardownable): Promise<Backend> {
  const s = await startSimulator(t, { provisioningCidrs: [CIDR] });
  const rack1 = await connectRack(s, 'contract-rack1');
  const rack2 = await connectRack(s, 'contract-rack2');
  const rack3 = await connectRack(s, 'contract-rack3', []);
  const { apiKey } = (await s.control('POST', 'users', { username: 'contract-user', admin: false })) as { apiKey: string };
  const rackd = async (systemId: string, status: 'running' | 'dead') => {
    await s.control('POST', `racks/${systemId}/rackd`, { status });
  };
  return baseline('simulator', s.url, s.adminKey, ApiKey.parse(apiKey), { rack1, rack2, rack3 }, rackd);
}

export async function realBackend(t: Teardownable, kit: RealMaasKit): Promise<Backend> {
  const maas = await startRealMaas(t, kit);
  const admin = sender(maas.url, maas.adminKey, maas.adminKey, {});
  await expectOk(await admin({ method: 'POST', path: 'subnets/', form: { cidr: CIDR } }), 'POST subnets/');
  const user = 'contract-user';
  await expectOk(
    await admin({ method: 'POST', path: 'users/', form: { username: user, email: `${user}@example.com`, password: 'contract-pw', is_superuser: '0' } }),
    'POST users/',
  );
  // Each of these starts a Python process with Django: run them side by side. Racks are database
  // records only (no rackd), so host names need not be unique across instances.
  const [rack1, rack2, rack3, key] = await Promise.all([
    maas.registerRack('contract-rack1', '10.7.200.5'),
    maas.registerRack('contract-rack2', '10.7.200.6'),
    maas.registerRack('contract-rack3'),
    execa(maas.regionCommand, ['apikey', '--username', user], { timeout: scaled(120_000) }),
  ]);
  const rackd = async (systemId: string, status: 'running' | 'dead') => {
    await maas.run('rack-service', [systemId, 'rackd', status]);
  };
  return baseline('real MAAS', maas.url, maas.adminKey, ApiKey.parse(key.stdout.trim().split('\n').at(-1) ?? ''), { rack1, rack2, rack3 }, rackd);
}

async function baseline(
  name: Backend['name'],
  url: string,
  admin: ApiKey,
  user: ApiKey,
  racks: Record<string, string>,
  rackd: Backend['rackd'],
): Promise<Backend> {
  const probe = sender(url, admin, user, {});
  const subnets = (await expectOk(await probe({ method: 'GET', path: 'subnets/' }), 'GET subnets/')) as {
    id: number;
    cidr: string;
    vlan: { id: number; vid: number; fabric_id: number };
  }[];
  const subnet = subnets.find((s) => s.cidr === CIDR);
  if (!subnet) throw new Error(`baseline: ${name} has no subnet ${CIDR}`);
  const refs = {
    // Echoed by MAAS in "Invalid signature" errors: compared as a ref, so both must echo it.
    tokenSecret: admin.reveal().split(':')[2] as string,
    subnet: String(subnet.id),
    fabric: String(subnet.vlan.fabric_id),
    vid: String(subnet.vlan.vid),
    vlan: String(subnet.vlan.id),
    ...racks,
  };
  return { name, refs, send: sender(url, admin, user, refs), rackd };
}

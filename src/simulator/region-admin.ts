/**
 * Region-side actions that real MAAS performs outside the REST API: `maas-region createadmin`
 * and `apikey`, the shared secret, and rackd connecting with that secret.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { SimModel, SimRack, SimToken, SimUser } from './model.js';

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomText(length: number): string {
  return Array.from({ length }, () => ALPHANUM[randomInt(ALPHANUM.length)]).join('');
}

/** A failure the real command reports as a Django CommandError (exit 1). */
export class CommandError extends Error {}

export function formatKey(token: SimToken): string {
  return `${token.consumerKey}:${token.tokenKey}:${token.tokenSecret}`;
}

/** Key parts of 18/18/32 alphanumeric characters, as MAAS makes them. */
export function createToken(model: SimModel, user: SimUser, name = 'MAAS consumer'): SimToken {
  const token: SimToken = {
    consumerKey: randomText(18),
    tokenKey: randomText(18),
    tokenSecret: randomText(32),
    userId: user.id,
    name,
  };
  model.tokens.push(token);
  model.touch();
  return token;
}

export interface NewUser {
  readonly username: string;
  readonly password: string;
  readonly email: string;
  readonly isSuperuser: boolean;
}

/** Creates a user and, as MAAS's user profile does, its first API token. */
export function createUser(model: SimModel, spec: NewUser): SimUser {
  if (model.userByName(spec.username)) throw new CommandError('Error: That username is already taken.');
  if ([...model.users.values()].some((u) => u.email === spec.email)) {
    throw new CommandError(`A user with the email ${spec.email} already exists.`);
  }
  const user: SimUser = { id: model.newId('user'), isActive: true, ...spec };
  model.users.set(user.id, user);
  createToken(model, user);
  return user;
}

/** `maas-region apikey --username U [--generate]`: the user's keys, one per line. */
export function apiKeys(model: SimModel, username: string, generate: boolean): string[] {
  const user = model.userByName(username);
  if (!user) throw new CommandError('User does not exist.');
  if (generate) return [formatKey(createToken(model, user))];
  return model.tokens.filter((t) => t.userId === user.id).map(formatKey);
}

/** The key the simulator publishes in `DIR/api-key`: the first admin's first token. */
export function adminKey(model: SimModel): string | undefined {
  const admin = [...model.users.values()].find((u) => u.isSuperuser && u.isActive);
  const token = admin && model.tokens.find((t) => t.userId === admin.id);
  return token && formatKey(token);
}

/**
 * A new region secret. As in MAAS, racks already connected stay connected (and `running`); one
 * still holding the old secret is refused the next time it connects.
 */
export function rotateSecret(model: SimModel): void {
  model.secret = randomBytes(16).toString('hex');
  model.touch();
}

export interface ConnectRequest {
  readonly hostname: string;
  readonly secret: string;
  readonly maasUrl: string;
  /** CIDRs the rack has interfaces on; the provisioning subnets when absent. */
  readonly subnets?: readonly string[];
}

export type ConnectResult = { readonly ok: true; readonly systemId: string } | { readonly ok: false; readonly reason: string };

/** rackd authenticating to the region. A rack is matched by hostname, as MAAS matches a known node. */
export function connectRack(model: SimModel, request: ConnectRequest, provisioningCidrs: readonly string[]): ConnectResult {
  const given = Buffer.from(request.secret.trim().toLowerCase());
  const wanted = Buffer.from(model.secret);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    const existing = [...model.racks.values()].find((r) => r.hostname === request.hostname);
    if (existing) existing.rackd = 'dead';
    model.touch();
    return { ok: false, reason: 'shared secret does not match the region' };
  }
  let rack = [...model.racks.values()].find((r) => r.hostname === request.hostname);
  if (!rack) {
    rack = { systemId: newSystemId(model), hostname: request.hostname, rackd: 'running', secret: '', maasUrl: '', interfaces: [] };
    model.racks.set(rack.systemId, rack);
    attachInterfaces(model, rack, request.subnets ?? provisioningCidrs);
  }
  rack.secret = model.secret;
  rack.maasUrl = request.maasUrl;
  rack.rackd = 'running';
  model.touch();
  return { ok: true, systemId: rack.systemId };
}

export function setRackd(model: SimModel, systemId: string, status: SimRack['rackd']): boolean {
  const rack = model.racks.get(systemId);
  if (!rack) return false;
  rack.rackd = status;
  model.touch();
  return true;
}

function attachInterfaces(model: SimModel, rack: SimRack, cidrs: readonly string[]): void {
  cidrs.forEach((cidr, index) => {
    const subnet = [...model.subnets.values()].find((s) => s.cidr === cidr);
    if (!subnet) return;
    const mac = `52:54:00:${randomBytes(3).toString('hex').match(/../g)?.join(':') ?? '00:00:00'}`;
    rack.interfaces.push({
      id: model.newId('iface'),
      name: `eth${index}`,
      mac,
      vlanId: subnet.vlanId,
      links: [{ id: model.newId('link'), subnetId: subnet.id, ip: model.allocateRackIp(subnet) }],
    });
  });
}

/** MAAS system ids: six characters of lowercase letters and digits. */
function newSystemId(model: SimModel): string {
  const alphabet = 'abcdefghjkmnpqrstwxy346789';
  for (;;) {
    const id = Array.from({ length: 6 }, () => alphabet[randomInt(alphabet.length)]).join('');
    if (!model.racks.has(id)) return id;
  }
}

/** ipranges/ — create, list, update, delete, with IPRange.clean's rules in their real order. */
import { adminOnly, ApiError, FormErrors, notFound, type Ctx, type OpTable } from './support.js';
import { renderIpRange } from '../render.js';
import type { SimIpRange, SimModel, SimSubnet, SimUser } from '../model.js';
import { contains, normalizeAddress, parseAddress, parseNetwork } from '../../util/ip.js';

export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
  readonly purpose: string;
}

/**
 * What a new range of `type` may not overlap (Subnet.get_ipranges_in_use): reserved ranges only
 * avoid other ranges; dynamic ranges also avoid the gateway, in-subnet DNS servers and assigned IPs.
 */
export function usedIntervals(model: SimModel, subnet: SimSubnet, type: SimIpRange['type'], excludeId?: number): Interval[] {
  const network = parseNetwork(subnet.cidr);
  if (!network) return [];
  const used: Interval[] = [];
  const single = (ip: string | null, purpose: string): void => {
    const address = ip === null ? null : parseAddress(ip);
    if (address && contains(network, address)) used.push({ start: address.value, end: address.value, purpose });
  };
  for (const range of model.rangesOfSubnet(subnet.id)) {
    if (range.id === excludeId) continue;
    const start = parseAddress(range.startIp);
    const end = parseAddress(range.endIp);
    if (start && end) used.push({ start: start.value, end: end.value, purpose: range.type === 'dynamic' ? 'dynamic' : 'reserved' });
  }
  if (type === 'dynamic') {
    single(subnet.gatewayIp, 'gateway-ip');
    for (const dns of subnet.dnsServers) single(dns, 'dns-server');
    for (const ip of model.assignedIps(subnet.id)) single(ip, 'assigned-ip');
  }
  return used.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The subnet's usable addresses (v4 without network and broadcast) minus what is in use. */
export function freeIntervals(model: SimModel, subnet: SimSubnet, type: SimIpRange['type'], excludeId?: number): Interval[] {
  const network = parseNetwork(subnet.cidr);
  if (!network) return [];
  const smallV4 = network.family === 4 && network.prefix >= 31;
  let cursor = smallV4 ? network.first : network.first + 1n;
  const last = network.family === 4 && !smallV4 ? network.last - 1n : network.last;
  const free: Interval[] = [];
  for (const used of usedIntervals(model, subnet, type, excludeId)) {
    if (used.start > cursor) free.push({ start: cursor, end: used.start - 1n > last ? last : used.start - 1n, purpose: 'unused' });
    if (used.end + 1n > cursor) cursor = used.end + 1n;
  }
  if (cursor <= last) free.push({ start: cursor, end: last, purpose: 'unused' });
  return free.filter((i) => i.start <= i.end);
}

interface Draft {
  type: string | undefined;
  startIp: string | undefined;
  endIp: string | undefined;
  subnetId: number | undefined;
  comment: string;
}

/** Field validation, then the model's clean(), raising the first failure as MAAS does. */
function validate(
  model: SimModel,
  draft: Draft,
  excludeId?: number,
): asserts draft is Draft & { type: SimIpRange['type']; startIp: string; endIp: string; subnetId: number } {
  const errors = new FormErrors();
  if (draft.type === undefined || draft.type === '') errors.add('type', 'This field is required.');
  else if (draft.type !== 'dynamic' && draft.type !== 'reserved') {
    errors.add('type', `Select a valid choice. ${draft.type} is not one of the available choices.`);
  }
  const addresses = [
    ['start_ip', draft.startIp],
    ['end_ip', draft.endIp],
  ] as const;
  for (const [field, value] of addresses) {
    if (value === undefined || value === '') errors.add(field, 'This field is required.');
    else if (normalizeAddress(value) === null) errors.add(field, 'Enter a valid IPv4 or IPv6 address.');
  }
  // Django still runs the model's clean() after field errors and appends what it raises.
  if (addresses.some(([, value]) => !value)) {
    for (const [field] of addresses) errors.add(field, 'Start IP address and end IP address are both required.');
  }
  if (draft.subnetId === undefined) errors.add('subnet', 'This field is required.');
  else if (!model.subnets.has(draft.subnetId)) {
    errors.add('subnet', 'Select a valid choice. That choice is not one of the available choices.');
  }
  if (draft.comment.length > 255) {
    errors.add('comment', `Ensure this value has at most 255 characters (it has ${draft.comment.length}).`);
  }
  errors.throwIfAny();
  modelClean(model, draft as Draft & { type: SimIpRange['type']; subnetId: number }, excludeId);
}

function modelClean(model: SimModel, draft: Draft & { type: SimIpRange['type']; subnetId: number }, excludeId?: number): void {
  const fail = (message: string, fields: readonly string[] = ['start_ip', 'end_ip']): never => {
    throw new ApiError(400, Object.fromEntries(fields.map((f) => [f, [message]])));
  };
  const start = draft.startIp ? parseAddress(draft.startIp) : null;
  const end = draft.endIp ? parseAddress(draft.endIp) : null;
  if (!start || !end) return fail('Start IP address and end IP address are both required.');
  if (start.family !== end.family) fail('Start IP address and end IP address must be in the same address family.');
  if (end.value < start.value) fail('End IP address must not be less than Start IP address.', ['end_ip']);
  const subnet = model.subnets.get(draft.subnetId);
  const network = subnet ? parseNetwork(subnet.cidr) : null;
  if (!subnet || !network) return;
  if (!contains(network, start) && !contains(network, end)) fail(`IP addresses must be within subnet: ${network.text}.`);
  if (!contains(network, start)) fail(`Start IP address must be within subnet: ${network.text}.`, ['start_ip']);
  if (!contains(network, end)) fail(`End IP address must be within subnet: ${network.text}.`, ['end_ip']);
  if (start.value === network.first) fail('Reserved network address cannot be included in IP range.', ['start_ip']);
  if (network.family === 4 && end.value === network.last) fail('Broadcast address cannot be included in IP range.', ['end_ip']);
  if (start.family === 6 && draft.type === 'dynamic' && end.value - start.value + 1n < 256n) {
    fail('IPv6 dynamic range must be at least 256 addresses in size.');
  }
  const free = freeIntervals(model, subnet, draft.type, excludeId);
  if (free.length === 0) fail(`There is no room for any ${draft.type} ranges on this subnet.`);
  const fits = free.some((i) => start.value >= i.start && end.value <= i.end);
  if (!fits) {
    fail(`Requested ${draft.type} range conflicts with an existing ${draft.type === 'reserved' ? 'range' : 'IP address or range'}.`);
  }
}

function findRange(model: SimModel, id: string | undefined): SimIpRange {
  const range = /^\d+$/.test(id ?? '') ? model.ipranges.get(Number(id)) : undefined;
  if (!range) throw notFound('IPRange');
  return range;
}

function subnetParam(model: SimModel, raw: string | undefined, startIp: string | undefined): number | undefined {
  if (raw !== undefined && raw !== '') return /^\d+$/.test(raw) ? Number(raw) : -1;
  return startIp ? model.bestSubnetFor(startIp)?.id : undefined;
}

function canModify(user: SimUser, range: SimIpRange, verb: 'modify' | 'delete'): void {
  if (!user.isSuperuser && range.userId !== user.id) {
    throw new ApiError(403, `Unable to ${verb} IP range. You don't own the IP range.`);
  }
}

function createRange({ model, params, user }: Ctx): unknown {
  const type = params.get('type');
  if (type === 'dynamic' && !user.isSuperuser) {
    throw new ApiError(403, "Unable to create dynamic IP range. You don't have sufficient privileges.");
  }
  const draft: Draft = {
    type,
    startIp: params.get('start_ip'),
    endIp: params.get('end_ip'),
    subnetId: subnetParam(model, params.get('subnet'), params.get('start_ip')),
    comment: params.get('comment') ?? '',
  };
  validate(model, draft);
  const range: SimIpRange = {
    id: model.newId('iprange'),
    subnetId: draft.subnetId,
    type: draft.type,
    startIp: normalizeAddress(draft.startIp) ?? draft.startIp,
    endIp: normalizeAddress(draft.endIp) ?? draft.endIp,
    comment: draft.comment,
    userId: user.id,
  };
  model.ipranges.set(range.id, range);
  model.touch();
  return renderIpRange(model, range);
}

function updateRange({ model, params, user, path }: Ctx): unknown {
  const range = findRange(model, path.id);
  canModify(user, range, 'modify');
  const type = params.get('type') ?? range.type;
  if (type === 'dynamic') adminOnly(user);
  const draft: Draft = {
    type,
    startIp: params.get('start_ip') ?? range.startIp,
    endIp: params.get('end_ip') ?? range.endIp,
    subnetId: params.has('subnet') ? subnetParam(model, params.get('subnet'), undefined) : range.subnetId,
    comment: params.get('comment') ?? range.comment,
  };
  validate(model, draft, range.id);
  range.type = draft.type;
  range.startIp = normalizeAddress(draft.startIp) ?? draft.startIp;
  range.endIp = normalizeAddress(draft.endIp) ?? draft.endIp;
  range.subnetId = draft.subnetId;
  range.comment = draft.comment;
  model.touch();
  return renderIpRange(model, range);
}

function deleteRange({ model, user, path }: Ctx): undefined {
  const range = findRange(model, path.id);
  canModify(user, range, 'delete');
  model.ipranges.delete(range.id);
  model.touch();
  return undefined;
}

export const iprangesCollection: OpTable = {
  GET: { '': ({ model }) => [...model.ipranges.values()].map((r) => renderIpRange(model, r)) },
  POST: { '': createRange },
};

export const iprangeResource: OpTable = {
  GET: { '': ({ model, path }) => renderIpRange(model, findRange(model, path.id)) },
  PUT: { '': updateRange },
  DELETE: { '': deleteRange },
};

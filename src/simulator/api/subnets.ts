/** subnets/ — read, list, update (SubnetForm + Subnet.clean), and the read-only ops. */
import { adminOnly, ApiError, FormErrors, invalidChoice, notFound, type Ctx, type OpTable } from './support.js';
import { renderSubnet } from '../render.js';
import type { SimModel, SimSubnet } from '../model.js';
import { contains, formatAddress, normalizeAddress, parseAddress, parseNetwork } from '../../util/ip.js';
import { usedIntervals, freeIntervals } from './ipranges.js';

const TRUTHY = new Set(['true', 't', '1']);

/** Resolves a subnet specifier: numeric id, `cidr:`/bare CIDR, `name:`, `vid:`, `ip:`. */
export function findSubnet(model: SimModel, specifier: string): SimSubnet {
  const [kind, value] = specifier.includes(':') && !specifier.includes('::') ? splitSpecifier(specifier) : ['', specifier];
  const all = [...model.subnets.values()];
  let found: SimSubnet | undefined;
  if (kind === '' && /^\d+$/.test(value)) found = model.subnets.get(Number(value));
  else if (kind === 'cidr' || (kind === '' && value.includes('/'))) {
    const wanted = parseNetwork(value)?.text;
    found = all.find((s) => s.cidr === wanted);
  } else if (kind === 'name' || kind === '') found = all.find((s) => s.name === value);
  else if (kind === 'vid') found = all.find((s) => model.vlans.get(s.vlanId)?.vid === Number(value));
  else if (kind === 'ip') found = model.bestSubnetFor(value);
  else if (kind === 'id') found = model.subnets.get(Number(value));
  if (!found) throw notFound('Subnet');
  return found;
}

function splitSpecifier(specifier: string): [string, string] {
  const colon = specifier.indexOf(':');
  return [specifier.slice(0, colon), specifier.slice(colon + 1)];
}

/** IPListFormField: comma or whitespace separated addresses. */
export function parseIpList(values: readonly string[]): { ips: string[]; invalid?: string } {
  const ips: string[] = [];
  for (const value of values) {
    for (const item of value.split(/[,\s]+/).filter(Boolean)) {
      const ip = normalizeAddress(item);
      if (!ip) return { ips, invalid: item };
      ips.push(ip);
    }
  }
  return { ips };
}

export const invalidIpList = (ip: string): string => `Invalid IP address: ${ip}; provide a list of space-separated IP addresses`;

function updateSubnet({ model, params, user, path }: Ctx): unknown {
  adminOnly(user);
  const subnet = findSubnet(model, path.id ?? '');
  const errors = new FormErrors();
  let cidr = subnet.cidr;
  if (params.has('cidr')) {
    const network = parseNetwork(params.get('cidr') ?? '');
    if (!network) errors.add('cidr', 'Required format: <network>/<prefixlen>.');
    else if (network.prefix === 0) errors.add('cidr', 'Prefix length must be greater than 0.');
    else cidr = network.text;
  }
  let gatewayIp = subnet.gatewayIp;
  if (params.has('gateway_ip')) {
    const raw = params.get('gateway_ip') ?? '';
    gatewayIp = raw === '' ? null : normalizeAddress(raw);
    if (raw !== '' && gatewayIp === null) errors.add('gateway_ip', 'Enter a valid IPv4 or IPv6 address.');
  }
  let rdnsMode = subnet.rdnsMode;
  if (params.has('rdns_mode')) {
    const raw = params.get('rdns_mode') ?? '';
    if (!['0', '1', '2'].includes(raw)) errors.add('rdns_mode', invalidChoice(raw));
    else rdnsMode = Number(raw);
  }
  if (params.has('space')) {
    errors.add('space', 'Spaces may no longer be set on subnets. Set the space on the underlying VLAN.');
  }
  let dnsServers = subnet.dnsServers;
  if (params.has('dns_servers')) {
    const { ips, invalid } = parseIpList(params.getAll('dns_servers'));
    // SubnetForm.clean_dns_servers raises a form-wide ValidationError, so MAAS files it under __all__.
    if (invalid !== undefined) errors.add('__all__', invalidIpList(invalid));
    else dnsServers = ips;
  }
  // Subnet.clean: the gateway must lie inside the (possibly new) CIDR.
  const network = parseNetwork(cidr);
  const gateway = gatewayIp === null ? null : parseAddress(gatewayIp);
  if (network && gateway && !errors.has('gateway_ip') && !contains(network, gateway)) {
    errors.add('gateway_ip', 'Gateway IP must be within CIDR range.');
  }
  errors.throwIfAny();

  subnet.cidr = cidr;
  subnet.gatewayIp = gatewayIp;
  subnet.rdnsMode = rdnsMode;
  subnet.dnsServers = dnsServers;
  if (params.has('name')) subnet.name = params.get('name') ?? '';
  if (params.has('description')) subnet.description = params.get('description') ?? '';
  // Omitted fields keep their values: MAAS fills a PUT's missing fields from the instance.
  if (params.has('allow_dns')) subnet.allowDns = TRUTHY.has((params.get('allow_dns') ?? '').toLowerCase());
  if (params.has('allow_proxy')) subnet.allowProxy = TRUTHY.has((params.get('allow_proxy') ?? '').toLowerCase());
  if (params.has('managed')) subnet.managed = !['false', '0', ''].includes((params.get('managed') ?? '').toLowerCase());
  if (params.has('active_discovery')) {
    subnet.activeDiscovery = TRUTHY.has((params.get('active_discovery') ?? '').toLowerCase());
  }
  model.touch();
  // The answer renders the form's unsaved instance, where an unset gateway is still "" (GET says null).
  return { ...renderSubnet(model, subnet), gateway_ip: subnet.gatewayIp ?? '' };
}

function describeRanges(model: SimModel, subnet: SimSubnet, which: 'used' | 'free'): unknown {
  const network = parseNetwork(subnet.cidr);
  if (!network) return [];
  const intervals = which === 'used' ? usedIntervals(model, subnet, 'dynamic') : freeIntervals(model, subnet, 'dynamic');
  return intervals.map(({ start, end, purpose }) => ({
    start: formatAddress(network.family, start),
    end: formatAddress(network.family, end),
    num_addresses: Number(end - start + 1n),
    ...(which === 'used' ? { purpose: [purpose] } : {}),
  }));
}

function statistics(model: SimModel, subnet: SimSubnet): unknown {
  const network = parseNetwork(subnet.cidr);
  if (!network) return {};
  const total = Number(network.last - network.first + 1n) - (network.family === 4 && network.prefix < 31 ? 2 : 0);
  const free = freeIntervals(model, subnet, 'dynamic');
  const available = free.reduce((sum, i) => sum + Number(i.end - i.start + 1n), 0);
  const largest = free.reduce((max, i) => Math.max(max, Number(i.end - i.start + 1n)), 0);
  const usage = total === 0 ? 0 : (total - available) / total;
  return {
    num_available: available,
    largest_available: largest,
    num_unavailable: total - available,
    total_addresses: total,
    usage,
    usage_string: `${Math.round(usage * 100)}%`,
    available_string: `${Math.round((1 - usage) * 100)}%`,
    first_address: formatAddress(network.family, network.first + 1n),
    last_address: formatAddress(network.family, network.last - (network.family === 4 ? 1n : 0n)),
    ip_version: network.family,
  };
}

export const subnetsCollection: OpTable = {
  GET: { '': ({ model }) => [...model.subnets.values()].map((s) => renderSubnet(model, s)) },
};

export const subnetResource: OpTable = {
  GET: {
    '': ({ model, path }) => renderSubnet(model, findSubnet(model, path.id ?? '')),
    reserved_ip_ranges: ({ model, path }) => describeRanges(model, findSubnet(model, path.id ?? ''), 'used'),
    unreserved_ip_ranges: ({ model, path }) => describeRanges(model, findSubnet(model, path.id ?? ''), 'free'),
    statistics: ({ model, path }) => statistics(model, findSubnet(model, path.id ?? '')),
    ip_addresses: ({ model, path }) => {
      const subnet = findSubnet(model, path.id ?? '');
      return model.assignedIps(subnet.id).map((ip) => ({ ip, alloc_type: 1, alloc_type_name: 'Sticky' }));
    },
  },
  PUT: { '': updateSubnet },
  DELETE: {
    '': () => {
      throw new ApiError(403, 'Deleting subnets is not supported by the simulator.');
    },
  },
};

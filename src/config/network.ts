/**
 * The declared network configuration (a YAML file, e.g. a ConfigMap): read from the file a variable
 * (or flag) names, parsed once, checked against MAAS's own rules so a bad declaration fails at
 * start-up rather than as a 400 at every reconcile. The region plans with the types declared here.
 */
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import YAML from 'yaml';
import { ConfigError } from '../errors.js';
import { contains, formatAddress, parseAddress, parseNetwork, type Address } from '../util/ip.js';
import { FILE_LIMITS } from '../util/read-file.js';
import { fileVar, type Problems } from './env.js';
import { deepFreeze, describeRule, gotText } from './validate.js';

/** The schema a JSON pointer like `#/properties/subnets/items` points at. */
function schemaAt(root: unknown, pointer: string): unknown {
  return pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

/** The value at a JSON pointer like `/subnets/0/cidr`. */
function valueAt(root: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

/**
 * Applies defaults, converts where a YAML scalar has another type than the schema asks, and checks.
 * `name` maps a value path like `/subnets/0/cidr` to what the user wrote (a YAML path).
 * (Environment variables are not read this way: env.ts parses them strictly.) It lives here, the
 * one reader of a YAML file, so TypeBox's Value is loaded only by the commands that read one: the
 * rack never does.
 */
function parseWithSchema<S extends TSchema>(schema: S, input: unknown, name: (path: string) => string): Static<S> {
  const withDefaults = Value.Default(schema, Value.Clone(input));
  const converted = Value.Convert(schema, withDefaults);
  const problems = [...Value.Errors(schema, converted)]
    // A union's own error says what it accepts; its branches' errors would only repeat it, in parts.
    .filter((e) => e.keyword !== 'boolean' && !e.schemaPath.includes('/anyOf/'))
    .map((e) => {
      const missing = e.keyword === 'required' ? (e.params as { requiredProperties?: string[] }).requiredProperties : undefined;
      if (missing) return missing.map((p) => `${name(`${e.instancePath}/${p}`)} is required`).join('; ');
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? [];
        return extra.map((p) => `${name(`${e.instancePath}/${p}`)} is not a known setting`).join('; ');
      }
      const failing = schemaAt(schema, e.schemaPath);
      if (failing === undefined) return `${name(e.instancePath)} ${e.message}`;
      return `${name(e.instancePath)} ${describeRule(failing)}${gotText(valueAt(converted, e.instancePath))}`;
    });
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return converted as Static<S>;
}

const RangeSchema = Type.Object(
  {
    start: Type.String(),
    end: Type.String(),
    comment: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const SubnetSchema = Type.Object(
  {
    cidr: Type.String(),
    gateway: Type.Optional(Type.String()),
    dnsServers: Type.Optional(Type.Array(Type.String(), { maxItems: 16 })),
    dynamicRange: Type.Optional(RangeSchema),
    reservedRanges: Type.Optional(Type.Array(RangeSchema, { maxItems: 64 })),
    dhcp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const NetworkConfigSchema = Type.Object(
  {
    subnets: Type.Array(SubnetSchema, { maxItems: 64 }),
    settings: Type.Optional(
      Type.Object(
        {
          upstream_dns: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
          dnssec_validation: Type.Optional(Type.String()),
          maas_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          ntp_servers: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    bootResources: Type.Optional(Type.Object({ import: Type.Boolean() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export interface DesiredRange {
  readonly start: string;
  readonly end: string;
  readonly comment?: string;
}

export interface DesiredSubnet {
  readonly cidr: string;
  /** `undefined`: not declared, so not managed. */
  readonly gateway?: string;
  readonly dnsServers?: readonly string[];
  readonly dynamicRange?: DesiredRange;
  readonly reservedRanges: readonly DesiredRange[];
  /** DHCP on the subnet's VLAN: on (the default when a dynamic range is declared) or off. */
  readonly dhcp: boolean;
}

export interface DesiredNetwork {
  readonly subnets: readonly DesiredSubnet[];
  /** MAAS settings by their MAAS names, values as set_config takes them. */
  readonly settings: Readonly<Record<string, string>>;
  readonly importBootResources: boolean;
}

/** Parses YAML text; `source` names the file in messages. */
export function parseNetworkConfig(text: string, source: string): DesiredNetwork {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new ConfigError([`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const name = (path: string) =>
    `${source} ${
      path === ''
        ? '(top level)'
        : path
            .slice(1)
            .replace(/\/(\d+)/g, '[$1]')
            .replace(/\//g, '.')
    }`;
  const parsed = parseWithSchema(NetworkConfigSchema, raw ?? {}, name);
  const problems: string[] = [];
  const subnets = parsed.subnets.map((subnet, i) => checkSubnet(subnet, `${source} subnets[${i}]`, problems));
  const cidrs = subnets.map((s) => s.cidr);
  cidrs.forEach((cidr, i) => {
    if (cidrs.indexOf(cidr) !== i) problems.push(`${source} subnets[${i}].cidr ${cidr} is declared twice`);
  });
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed.settings ?? {})) {
    if (value === undefined) continue;
    if (key === 'upstream_dns') {
      const items = (Array.isArray(value) ? value : value.split(/[,\s]+/)).filter(Boolean);
      const bad = items.filter((item) => !parseAddress(item));
      if (bad.length > 0) problems.push(`${source} settings.upstream_dns has addresses that are not IPs: ${bad.join(', ')}`);
      settings[key] = items.map((item) => canonical(item)).join(' ');
    } else if (key === 'dnssec_validation' && !['auto', 'yes', 'no'].includes(String(value))) {
      problems.push(`${source} settings.dnssec_validation must be one of auto, yes, no (got "${String(value)}")`);
    } else settings[key] = String(value);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze({ subnets, settings, importBootResources: parsed.bootResources?.import ?? false });
}

/** Every problem, each naming `variable`, the file and the field, goes to `problems`. */
export function networkFileVar(variable: string, path: string, problems: Problems): DesiredNetwork | undefined {
  const text = problems.try(() => fileVar(variable, path, FILE_LIMITS.config), variable);
  if (text === undefined) return undefined;
  try {
    return parseNetworkConfig(text, `${variable} ${path}:`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    err.problems.forEach((p) => problems.add(p));
    return undefined;
  }
}

type SubnetInput = {
  cidr: string;
  gateway?: string;
  dnsServers?: string[];
  dynamicRange?: { start: string; end: string; comment?: string };
  reservedRanges?: { start: string; end: string; comment?: string }[];
  dhcp?: boolean;
};

function canonical(text: string): string {
  const address = parseAddress(text);
  return address ? formatAddress(address.family, address.value) : text;
}

function checkSubnet(input: SubnetInput, where: string, problems: string[]): DesiredSubnet {
  const network = parseNetwork(input.cidr);
  if (!network) {
    problems.push(`${where}.cidr must be network/prefix, e.g. 10.7.200.0/24 (got "${input.cidr}")`);
    return { cidr: input.cidr, reservedRanges: [], dhcp: false };
  }
  if (parseAddress(input.cidr.split('/')[0] ?? '')?.value !== network.first) {
    problems.push(`${where}.cidr ${input.cidr} has host bits set; the network is ${network.text}`);
  }
  const isEdge = (a: Address) => a.value === network.first || (network.family === 4 && network.prefix < 31 && a.value === network.last);

  let gateway: Address | undefined;
  if (input.gateway !== undefined) {
    gateway = parseAddress(input.gateway) ?? undefined;
    if (!gateway) problems.push(`${where}.gateway must be an IP address (got "${input.gateway}")`);
    else if (!contains(network, gateway)) problems.push(`${where}.gateway ${input.gateway} is outside ${network.text}`);
    else if (isEdge(gateway)) problems.push(`${where}.gateway ${input.gateway} is the network or broadcast address of ${network.text}`);
  }
  const dns: Address[] = [];
  (input.dnsServers ?? []).forEach((text, i) => {
    const address = parseAddress(text);
    if (!address) problems.push(`${where}.dnsServers[${i}] must be an IP address (got "${text}")`);
    else dns.push(address);
  });

  const checkRange = (range: { start: string; end: string }, label: string, dynamic: boolean) => {
    const start = parseAddress(range.start);
    const end = parseAddress(range.end);
    if (!start || !end) {
      problems.push(`${where}.${label} start and end must be IP addresses (got "${range.start}" - "${range.end}")`);
      return undefined;
    }
    const before = problems.length;
    if (!contains(network, start) || !contains(network, end)) problems.push(`${where}.${label} ${range.start}-${range.end} is not inside ${network.text}`);
    else if (start.value > end.value) problems.push(`${where}.${label} start ${range.start} is after end ${range.end}`);
    else if (isEdge(start) || isEdge(end)) problems.push(`${where}.${label} includes the network or broadcast address of ${network.text}`);
    else if (dynamic && network.family === 6 && end.value - start.value + 1n < 256n) {
      problems.push(`${where}.${label} must hold at least 256 addresses (an IPv6 dynamic range)`);
    }
    return problems.length === before ? { start: start.value, end: end.value } : undefined;
  };

  const dynamic = input.dynamicRange ? checkRange(input.dynamicRange, 'dynamicRange', true) : undefined;
  const reserved = (input.reservedRanges ?? []).map((r, i) => checkRange(r, `reservedRanges[${i}]`, false));
  if (dynamic) {
    const inside = (a: Address) => a.value >= dynamic.start && a.value <= dynamic.end;
    if (gateway && inside(gateway)) problems.push(`${where}.gateway ${input.gateway} is inside the dynamic range`);
    dns
      .filter((a) => contains(network, a) && inside(a))
      .forEach((a) => {
        problems.push(`${where}.dnsServers ${formatAddress(a.family, a.value)} is inside the dynamic range`);
      });
  }
  const spans = [
    ...(dynamic ? [{ ...dynamic, label: 'dynamicRange' }] : []),
    ...reserved.flatMap((r, i) => (r ? [{ ...r, label: `reservedRanges[${i}]` }] : [])),
  ];
  spans.forEach((a, i) =>
    spans.slice(i + 1).forEach((b) => {
      if (a.start <= b.end && b.start <= a.end) problems.push(`${where}.${a.label} overlaps ${where}.${b.label}`);
    }),
  );
  const dhcp = input.dhcp ?? input.dynamicRange !== undefined;
  if (dhcp && !input.dynamicRange) problems.push(`${where}.dhcp needs a dynamicRange: MAAS serves DHCP only from a dynamic range`);

  const range = (r: { start: string; end: string; comment?: string }): DesiredRange => ({
    start: canonical(r.start),
    end: canonical(r.end),
    ...(r.comment === undefined ? {} : { comment: r.comment }),
  });
  return {
    cidr: network.text,
    ...(input.gateway === undefined ? {} : { gateway: canonical(input.gateway) }),
    ...(input.dnsServers === undefined ? {} : { dnsServers: input.dnsServers.map(canonical) }),
    ...(input.dynamicRange ? { dynamicRange: range(input.dynamicRange) } : {}),
    reservedRanges: (input.reservedRanges ?? []).map(range),
    dhcp,
  };
}

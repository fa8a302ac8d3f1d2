/**
 * MAAS API 2.0 response shapes, validated at the edge. Only the fields the code relies on are
 * declared; unknown fields are normal (MAAS 3.x adds many) and pass through untouched.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { MaasResponseError } from '../errors.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const VlanSchema = Type.Object({
  id: Type.Integer(),
  vid: Type.Integer({ minimum: 0, maximum: 4094 }),
  name: NullableString,
  fabric: Type.String(),
  fabric_id: Type.Integer(),
  mtu: Type.Integer(),
  dhcp_on: Type.Boolean(),
  external_dhcp: Type.Optional(NullableString),
  primary_rack: NullableString,
  secondary_rack: NullableString,
  relay_vlan: Type.Optional(Type.Unknown()),
  space: Type.Optional(NullableString),
});
export type Vlan = Static<typeof VlanSchema>;

export const SubnetSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  cidr: Type.String(),
  vlan: VlanSchema,
  gateway_ip: NullableString,
  dns_servers: Type.Array(Type.String()),
  rdns_mode: Type.Integer(),
  allow_dns: Type.Boolean(),
  allow_proxy: Type.Boolean(),
  managed: Type.Boolean(),
  active_discovery: Type.Optional(Type.Boolean()),
  space: Type.Optional(NullableString),
  description: Type.Optional(Type.String()),
});
export type Subnet = Static<typeof SubnetSchema>;

export const FabricSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  vlans: Type.Array(VlanSchema),
});
export type Fabric = Static<typeof FabricSchema>;

export const UserSchema = Type.Object({
  username: Type.String(),
  is_superuser: Type.Boolean(),
  email: Type.Optional(NullableString),
  is_local: Type.Optional(Type.Boolean()),
});
export type User = Static<typeof UserSchema>;

export const IpRangeSchema = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  start_ip: Type.String(),
  end_ip: Type.String(),
  comment: NullableString,
  user: Type.Union([UserSchema, Type.Null()]),
  subnet: SubnetSchema,
});
export type IpRange = Static<typeof IpRangeSchema>;

export const LinkSchema = Type.Object({
  id: Type.Integer(),
  mode: Type.String(),
  ip_address: Type.Optional(NullableString),
  subnet: Type.Optional(SubnetSchema),
});

export const InterfaceSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  vlan: Type.Union([VlanSchema, Type.Null()]),
  links: Type.Array(LinkSchema),
});
export type Interface = Static<typeof InterfaceSchema>;

export const ServiceSchema = Type.Object({
  name: Type.String(),
  status: Type.String(),
  status_info: Type.Optional(Type.String()),
});

export const RackControllerSchema = Type.Object({
  system_id: Type.String({ minLength: 1 }),
  hostname: Type.String(),
  node_type: Type.Integer(),
  ip_addresses: Type.Array(Type.String()),
  interface_set: Type.Array(InterfaceSchema),
  service_set: Type.Array(ServiceSchema),
});
export type RackController = Static<typeof RackControllerSchema>;

export const VersionSchema = Type.Object({
  version: Type.String(),
  subversion: Type.String(),
  capabilities: Type.Array(Type.String()),
});
export type Version = Static<typeof VersionSchema>;

export const BootResourceSchema = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  name: Type.String(),
  architecture: Type.String(),
});
export type BootResource = Static<typeof BootResourceSchema>;

/** One block of `subnets/{id}/?op=reserved_ip_ranges` (with purpose) or `unreserved_ip_ranges`. */
export const AddressBlockSchema = Type.Object({
  start: Type.String(),
  end: Type.String(),
  num_addresses: Type.Integer({ minimum: 0 }),
  purpose: Type.Optional(Type.Array(Type.String())),
});
export type AddressBlock = Static<typeof AddressBlockSchema>;

export const SubnetStatisticsSchema = Type.Object({
  num_available: Type.Integer(),
  largest_available: Type.Integer(),
  num_unavailable: Type.Integer(),
  total_addresses: Type.Integer(),
  usage: Type.Number(),
  ip_version: Type.Integer(),
});
export type SubnetStatistics = Static<typeof SubnetStatisticsSchema>;

/** Service states MAAS reports (`SERVICE_STATUS`); anything else is read as 'unknown'. */
export const SERVICE_STATES = ['unknown', 'running', 'degraded', 'dead', 'off'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export function serviceState(rack: RackController, name: string): ServiceState {
  const status = rack.service_set.find((service) => service.name === name)?.status;
  return (SERVICE_STATES as readonly string[]).includes(status ?? '') ? (status as ServiceState) : 'unknown';
}

/** A validator for `schema` that throws MaasResponseError naming the first problems. */
export function responseParser<S extends TSchema>(schema: S, what: string): (value: unknown) => Static<S> {
  const compiled = Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return value as Static<S>;
    const problems = compiled
      .Errors(value)
      .filter((e) => e.keyword !== 'anyOf')
      .slice(0, 3)
      .map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new MaasResponseError(`MAAS returned a malformed ${what}: ${problems.join('; ')}`);
  };
}

export const parseVersion = responseParser(VersionSchema, 'version');
export const parseUser = responseParser(UserSchema, 'user');
export const parseSubnet = responseParser(SubnetSchema, 'subnet');
export const parseSubnets = responseParser(Type.Array(SubnetSchema), 'subnet list');
export const parseFabrics = responseParser(Type.Array(FabricSchema), 'fabric list');
export const parseVlan = responseParser(VlanSchema, 'VLAN');
export const parseVlans = responseParser(Type.Array(VlanSchema), 'VLAN list');
export const parseIpRange = responseParser(IpRangeSchema, 'IP range');
export const parseIpRanges = responseParser(Type.Array(IpRangeSchema), 'IP range list');
export const parseRackController = responseParser(RackControllerSchema, 'rack controller');
export const parseRackControllers = responseParser(Type.Array(RackControllerSchema), 'rack controller list');
export const parseAddressBlocks = responseParser(Type.Array(AddressBlockSchema), 'address block list');
export const parseSubnetStatistics = responseParser(SubnetStatisticsSchema, 'subnet statistics');
export const parseBootResources = responseParser(Type.Array(BootResourceSchema), 'boot resource list');

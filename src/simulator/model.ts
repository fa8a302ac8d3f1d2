/**
 * The simulated region's database: plain records keyed by id, plus the queries MAAS's validation
 * rules need. Handlers mutate it; render.ts turns records into API JSON.
 */
import { randomBytes } from 'node:crypto';
import { parseNetwork, parseAddress, contains, formatAddress } from '../util/ip.js';

export interface SimUser {
  readonly id: number;
  readonly username: string;
  readonly email: string;
  readonly password: string;
  readonly isSuperuser: boolean;
  isActive: boolean;
}

export interface SimToken {
  readonly consumerKey: string;
  readonly tokenKey: string;
  readonly tokenSecret: string;
  readonly userId: number;
  readonly name: string;
}

export interface SimFabric {
  readonly id: number;
  name: string;
}

export interface SimVlan {
  readonly id: number;
  fabricId: number;
  vid: number;
  name: string | null;
  mtu: number;
  dhcpOn: boolean;
  primaryRack: string | null;
  secondaryRack: string | null;
  relayVlanId: number | null;
  space: string | null;
}

export interface SimSubnet {
  readonly id: number;
  name: string;
  description: string;
  cidr: string;
  vlanId: number;
  gatewayIp: string | null;
  dnsServers: string[];
  rdnsMode: number;
  allowDns: boolean;
  allowProxy: boolean;
  managed: boolean;
  activeDiscovery: boolean;
}

export interface SimIpRange {
  readonly id: number;
  subnetId: number;
  type: 'dynamic' | 'reserved';
  startIp: string;
  endIp: string;
  comment: string;
  userId: number | null;
}

export type RackdStatus = 'running' | 'dead';

export interface SimLink {
  readonly id: number;
  readonly subnetId: number;
  readonly ip: string;
}

export interface SimInterface {
  readonly id: number;
  readonly name: string;
  readonly mac: string;
  readonly vlanId: number;
  readonly links: SimLink[];
}

export interface SimRack {
  readonly systemId: string;
  hostname: string;
  rackd: RackdStatus;
  /** The secret the rack last authenticated with; a rotation makes it stale. */
  secret: string;
  maasUrl: string;
  interfaces: SimInterface[];
}

export const DEFAULT_PROVISIONING_CIDR = '10.7.200.0/24';

/**
 * Every setting MAAS 3.5 accepts, in the order its error message lists them. Those without a
 * default below start as null here (MAAS has its own defaults; the sidecar reads what it sets).
 */
export const CONFIG_NAMES: readonly string[] = (
  'maas_name theme kernel_opts enable_http_proxy maas_proxy_port use_peer_proxy prefer_v4_proxy http_proxy default_dns_ttl ' +
  'upstream_dns dnssec_validation maas_internal_domain dns_trusted_acl ntp_servers ntp_external_only allow_only_trusted_transfers ' +
  'remote_syslog maas_syslog_port network_discovery active_discovery_interval default_osystem default_distro_series ' +
  'default_min_hwe_kernel default_storage_layout commissioning_distro_series enable_third_party_drivers windows_kms_host ' +
  'enable_disk_erasing_on_release disk_erase_with_secure_erase disk_erase_with_quick_erase boot_images_auto_import ' +
  'boot_images_no_proxy curtin_verbose force_v1_network_yaml enable_analytics completed_intro max_node_commissioning_results ' +
  'max_node_testing_results max_node_installation_results max_node_release_results subnet_ip_exhaustion_threshold_count ' +
  'release_notifications use_rack_proxy node_timeout prometheus_enabled prometheus_push_gateway prometheus_push_interval ' +
  'promtail_enabled promtail_port enlist_commissioning maas_auto_ipmi_user maas_auto_ipmi_user_privilege_level ' +
  'maas_auto_ipmi_k_g_bmc_key maas_auto_ipmi_cipher_suite_id maas_auto_ipmi_workaround_flags vcenter_server vcenter_username ' +
  'vcenter_password vcenter_datacenter hardware_sync_interval tls_cert_expiration_notification_enabled ' +
  'tls_cert_expiration_notification_interval session_length auto_vlan_creation'
).split(' ');

/** The defaults of the settings the simulator models; a fresh MAAS has no upstream DNS (null until set). */
const CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  maas_name: 'maas',
  upstream_dns: null,
  dnssec_validation: 'auto',
  ntp_servers: 'ntp.ubuntu.com',
  default_osystem: 'ubuntu',
  default_distro_series: 'jammy',
  enable_http_proxy: true,
  http_proxy: null,
  boot_images_auto_import: true,
  kernel_opts: null,
  completed_intro: false,
};

export class SimModel {
  readonly users = new Map<number, SimUser>();
  readonly tokens: SimToken[] = [];
  readonly fabrics = new Map<number, SimFabric>();
  readonly vlans = new Map<number, SimVlan>();
  readonly subnets = new Map<number, SimSubnet>();
  readonly ipranges = new Map<number, SimIpRange>();
  readonly racks = new Map<string, SimRack>();
  readonly config = new Map<string, unknown>(CONFIG_NAMES.map((name) => [name, CONFIG_DEFAULTS[name] ?? null]));
  readonly usedNonces = new Set<string>();
  bootImport = { importing: false, started: 0 };
  /** The region's RPC shared secret: 32 lowercase hex characters, as MAAS 3.x makes it. */
  secret = randomBytes(16).toString('hex');
  /** Bumped on every change, so X-MAAS-API-Hash changes as it does in MAAS. */
  revision = 0;
  #nextId = { user: 1, fabric: 0, vlan: 5001, subnet: 1, iprange: 1, iface: 1, link: 1 };

  /** fabric-0 with its untagged VLAN and the provisioning subnet: no gateway, DHCP off, no ranges. */
  static seeded(provisioningCidr = DEFAULT_PROVISIONING_CIDR): SimModel {
    const model = new SimModel();
    model.addSubnet(provisioningCidr);
    return model;
  }

  /** Adds a subnet on the VLAN with `vid` in `fabricName`, creating fabric and VLAN as needed. */
  addSubnet(cidr: string, options: { vid?: number; fabricName?: string } = {}): SimSubnet {
    const network = parseNetwork(cidr);
    if (!network) throw new TypeError(`not a CIDR: ${cidr}`);
    const fabricName = options.fabricName ?? 'fabric-0';
    let fabric = [...this.fabrics.values()].find((f) => f.name === fabricName);
    if (!fabric) {
      fabric = { id: this.#nextId.fabric++, name: fabricName };
      this.fabrics.set(fabric.id, fabric);
    }
    const vid = options.vid ?? 0;
    let vlan = [...this.vlans.values()].find((v) => v.fabricId === fabric.id && v.vid === vid);
    if (!vlan) {
      vlan = {
        id: this.#nextId.vlan++,
        fabricId: fabric.id,
        vid,
        name: vid === 0 ? 'untagged' : String(vid),
        mtu: 1500,
        dhcpOn: false,
        primaryRack: null,
        secondaryRack: null,
        relayVlanId: null,
        space: null,
      };
      this.vlans.set(vlan.id, vlan);
    }
    const subnet: SimSubnet = {
      id: this.#nextId.subnet++,
      name: network.text,
      description: '',
      cidr: network.text,
      vlanId: vlan.id,
      gatewayIp: null,
      dnsServers: [],
      rdnsMode: 2,
      allowDns: true,
      allowProxy: true,
      managed: true,
      activeDiscovery: false,
    };
    this.subnets.set(subnet.id, subnet);
    this.touch();
    return subnet;
  }

  touch(): void {
    this.revision++;
  }

  newId(kind: 'user' | 'iprange' | 'iface' | 'link'): number {
    return this.#nextId[kind]++;
  }

  userByName(username: string): SimUser | undefined {
    return [...this.users.values()].find((u) => u.username === username);
  }

  /** Racks with an interface on any VLAN with this VID, whatever its fabric (MAAS's filter_by_vids). */
  racksForVid(vid: number): SimRack[] {
    const vlanIds = new Set([...this.vlans.values()].filter((v) => v.vid === vid).map((v) => v.id));
    return [...this.racks.values()].filter((rack) => rack.interfaces.some((i) => vlanIds.has(i.vlanId)));
  }

  /** A rack by system_id or hostname, as NodeChoiceField accepts either. */
  findRack(candidates: readonly SimRack[], value: string): SimRack | undefined {
    return candidates.find((r) => r.systemId === value) ?? candidates.find((r) => r.hostname === value);
  }

  subnetsOfVlan(vlanId: number): SimSubnet[] {
    return [...this.subnets.values()].filter((s) => s.vlanId === vlanId);
  }

  rangesOfSubnet(subnetId: number): SimIpRange[] {
    return [...this.ipranges.values()].filter((r) => r.subnetId === subnetId);
  }

  /** Addresses statically assigned in a subnet (rack interfaces). */
  assignedIps(subnetId: number): string[] {
    return [...this.racks.values()].flatMap((r) => r.interfaces.flatMap((i) => i.links.filter((l) => l.subnetId === subnetId).map((l) => l.ip)));
  }

  /** The most specific subnet containing `ip` (MAAS's get_best_subnet_for_ip). */
  bestSubnetFor(ip: string): SimSubnet | undefined {
    const address = parseAddress(ip);
    if (!address) return undefined;
    return [...this.subnets.values()]
      .map((subnet) => ({ subnet, network: parseNetwork(subnet.cidr) }))
      .filter(({ network }) => network !== null && contains(network, address))
      .sort((a, b) => (b.network?.prefix ?? 0) - (a.network?.prefix ?? 0))[0]?.subnet;
  }

  /** A free address for a rack interface, taken from the top of the subnet, below broadcast. */
  allocateRackIp(subnet: SimSubnet): string {
    const network = parseNetwork(subnet.cidr);
    if (!network) throw new TypeError(`bad CIDR in model: ${subnet.cidr}`);
    const taken = new Set(this.assignedIps(subnet.id));
    for (let value = network.last - 1n; value > network.first; value--) {
      const ip = formatAddress(network.family, value);
      if (!taken.has(ip)) return ip;
    }
    throw new Error(`no free address left in ${subnet.cidr}`);
  }
}

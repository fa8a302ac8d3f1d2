/** version/, users/, maas/ (config), boot-resources/ and rackcontrollers/. */
import { adminOnly, ApiError, djangoBoolean, JsonValue, notFound, type Ctx, type OpTable } from './support.js';
import { renderRack, renderUser } from '../render.js';
import { CONFIG_NAMES, type SimModel } from '../model.js';
import { invalidIpList, parseIpList } from './subnets.js';

export const SIMULATED_VERSION = {
  capabilities: [
    'networks-management',
    'static-ipaddresses',
    'ipv6-deployment-ubuntu',
    'devices-management',
    'storage-deployment-ubuntu',
    'network-deployment-ubuntu',
    'bridging-interface-ubuntu',
    'bridging-automatic-ubuntu',
    'authenticate-api',
  ],
  version: '3.5.13',
  subversion: '',
};

/** How long a simulated boot-resource import takes. */
export const IMPORT_DURATION_MS = 1_500;

/** What a finished import leaves behind. */
const SYNCED_IMAGES = [
  { id: 1, type: 'Synced', name: 'ubuntu/jammy', architecture: 'amd64/ga-22.04', resource_uri: '/MAAS/api/2.0/boot-resources/1/' },
  { id: 2, type: 'Synced', name: 'grub-efi-signed/uefi', architecture: 'amd64/generic', resource_uri: '/MAAS/api/2.0/boot-resources/2/' },
];

const BOOLEAN_SETTINGS = new Set(['enable_http_proxy', 'boot_images_auto_import', 'completed_intro']);

function configName(raw: string | undefined): string {
  if (raw === undefined) throw new ApiError(400, 'No provided name!');
  const name = raw === 'ntp_server' ? 'ntp_servers' : raw;
  if (!CONFIG_NAMES.includes(name)) {
    throw new ApiError(400, { [raw]: [`${raw} is not a valid config setting (valid settings are: ${CONFIG_NAMES.join(', ')}).`] });
  }
  return name;
}

/** Validates and normalises a setting's value as MAAS's config form fields do. */
function configValue(name: string, value: string): unknown {
  if (name === 'upstream_dns') {
    const { ips, invalid } = parseIpList([value]);
    if (invalid !== undefined) throw new ApiError(400, { upstream_dns: [invalidIpList(invalid)] });
    return ips.join(' ');
  }
  if (name === 'dnssec_validation' && !['auto', 'yes', 'no'].includes(value)) {
    throw new ApiError(400, { dnssec_validation: [`'${value}' is not a valid dnssec_validation.  It should be one of: 'auto', 'yes', 'no'.`] });
  }
  if (BOOLEAN_SETTINGS.has(name)) return djangoBoolean(value);
  return value;
}

function refreshImport(model: SimModel, now: number): void {
  if (model.bootImport.importing && now - model.bootImport.started >= IMPORT_DURATION_MS) {
    model.bootImport.importing = false;
  }
}

function findRack({ model, path }: Ctx): ReturnType<typeof renderRack> {
  const rack = model.racks.get(path.system_id ?? '');
  if (!rack) throw notFound('RackController');
  return renderRack(model, rack);
}

export const versionResource: OpTable = { GET: { '': () => SIMULATED_VERSION } };

export const usersCollection: OpTable = {
  GET: {
    '': ({ model }) => [...model.users.values()].map(renderUser),
    whoami: ({ user }) => renderUser(user),
  },
};

export const maasResource: OpTable = {
  GET: {
    get_config: ({ model, params }) => new JsonValue(model.config.get(configName(params.get('name'))) ?? null),
  },
  POST: {
    set_config: ({ model, params, user }) => {
      adminOnly(user);
      const name = configName(params.get('name'));
      const value = params.get('value');
      if (value === undefined) throw new ApiError(400, 'No provided value!');
      model.config.set(name, configValue(name, value));
      model.touch();
      return 'OK';
    },
  },
};

export const bootResourcesCollection: OpTable = {
  GET: {
    '': ({ model, params }) => {
      const type = params.get('type');
      if (type !== undefined && !['synced', 'uploaded', 'generated'].includes(type)) {
        throw new ApiError(400, `'${type}' is not a valid type.`);
      }
      refreshImport(model, Date.now());
      const imported = model.bootImport.started > 0 && !model.bootImport.importing;
      return imported && (type === undefined || type === 'synced') ? SYNCED_IMAGES : [];
    },
    is_importing: ({ model }) => {
      refreshImport(model, Date.now());
      return model.bootImport.importing;
    },
  },
  POST: {
    import: ({ model, user }) => {
      adminOnly(user);
      model.bootImport = { importing: true, started: Date.now() };
      model.touch();
      return 'Import of boot resources started';
    },
    stop_import: ({ model, user }) => {
      adminOnly(user);
      model.bootImport = { importing: false, started: model.bootImport.started };
      return 'Import of boot resources is being stopped';
    },
  },
};

export const rackControllersCollection: OpTable = {
  GET: { '': ({ model }) => [...model.racks.values()].map((r) => renderRack(model, r)) },
  POST: {
    import_boot_images: ({ user }) => {
      adminOnly(user);
      return 'Import of boot images started on all rack controllers';
    },
  },
};

export const rackControllerResource: OpTable = {
  GET: { '': findRack },
};

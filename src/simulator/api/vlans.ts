/** fabrics/ and fabrics/{id}/vlans/ — VLANForm's field cleans, then its clean(), in MAAS's order. */
import { djangoBoolean, FormErrors, invalidChoice, notFound, ApiError, type Ctx, type OpTable } from './support.js';
import { renderFabric, renderVlan } from '../render.js';
import type { SimModel, SimRack, SimVlan } from '../model.js';

function findFabric(model: SimModel, id: string | undefined): number {
  const fabric = /^\d+$/.test(id ?? '') ? model.fabrics.get(Number(id)) : [...model.fabrics.values()].find((f) => f.name === id);
  if (!fabric) throw notFound('Fabric');
  return fabric.id;
}

/** `{vid}` addresses a VLAN by its VID within the fabric (never by database id). */
function findVlan(model: SimModel, path: Readonly<Record<string, string>>): SimVlan {
  const fabricId = findFabric(model, path.fabric_id);
  const key = Number(path.vid);
  const vlan = [...model.vlans.values()].find((v) => v.fabricId === fabricId && v.vid === key);
  if (!Number.isInteger(key) || !vlan) throw notFound('VLAN');
  return vlan;
}

function updateVlan({ model, params, user, path }: Ctx): unknown {
  const vlan = findVlan(model, path);
  // VLAN.objects.get_object_or_404 checks the admin permission itself and raises a bare PermissionDenied.
  if (!user.isSuperuser) throw new ApiError(403, '');
  const errors = new FormErrors();
  const choices = model.racksForVid(vlan.vid);

  // Field cleaning. Omitted fields keep the VLAN's current values (MAASModelForm on update).
  const rackField = (field: 'primary_rack' | 'secondary_rack', current: string | null): SimRack | null | undefined => {
    if (!params.has(field)) return current === null ? null : (model.racks.get(current) ?? null);
    const value = params.get(field) ?? '';
    if (value === '') return null;
    const rack = model.findRack(choices, value);
    if (!rack) errors.add(field, invalidChoice(value));
    return rack;
  };
  const primary = rackField('primary_rack', vlan.primaryRack);
  const secondary = rackField('secondary_rack', vlan.secondaryRack);

  let mtu = vlan.mtu;
  if (params.has('mtu')) {
    const raw = params.get('mtu') ?? '';
    if (!/^-?\d+$/.test(raw)) errors.add('mtu', 'Enter a whole number.');
    else if (Number(raw) < 552) errors.add('mtu', 'Ensure this value is greater than or equal to 552.');
    else if (Number(raw) > 65535) errors.add('mtu', 'Ensure this value is less than or equal to 65535.');
    else mtu = Number(raw);
  }

  let relayVlanId = vlan.relayVlanId;
  if (params.has('relay_vlan')) {
    const raw = params.get('relay_vlan') ?? '';
    const allowed = vlan.dhcpOn
      ? [...model.vlans.values()].filter((v) => v.id === vlan.relayVlanId)
      : [...model.vlans.values()].filter((v) => v.relayVlanId === null && v.id !== vlan.id);
    if (raw === '') relayVlanId = null;
    else if (!allowed.some((v) => String(v.id) === raw)) {
      errors.add('relay_vlan', 'Select a valid choice. That choice is not one of the available choices.');
    } else relayVlanId = Number(raw);
  }

  // clean_dhcp_on: DHCP needs a dynamic range on one of the VLAN's subnets.
  let dhcpOn: boolean | undefined = params.has('dhcp_on') ? djangoBoolean(params.get('dhcp_on') ?? '') : vlan.dhcpOn;
  if (dhcpOn) {
    const hasDynamic = model.subnetsOfVlan(vlan.id).some((s) => model.rangesOfSubnet(s.id).some((r) => r.type === 'dynamic'));
    if (!hasDynamic) {
      errors.add('dhcp_on', 'dhcp can only be turned on when a dynamic IP range is defined.');
      dhcpOn = undefined;
    }
  }

  // VLANForm.clean(): sees only fields that cleaned without error.
  let cleanedPrimary = primary ?? null;
  let cleanedSecondary = secondary ?? null;
  const formError = ((): string | undefined => {
    if (!cleanedPrimary && vlan.secondaryRack !== null) {
      cleanedPrimary = model.racks.get(vlan.secondaryRack) ?? null;
      cleanedSecondary = null;
    }
    if (cleanedPrimary && cleanedPrimary.systemId === vlan.secondaryRack) cleanedSecondary = null;
    if (cleanedSecondary && cleanedSecondary.systemId === vlan.primaryRack) {
      return `${cleanedSecondary.systemId} is already set as the primary rack controller`;
    }
    if (cleanedPrimary && cleanedSecondary && cleanedPrimary === cleanedSecondary) {
      return 'The primary and secondary rack must be different';
    }
    if (
      cleanedPrimary &&
      cleanedPrimary.systemId === vlan.primaryRack &&
      cleanedSecondary &&
      cleanedSecondary.systemId !== vlan.secondaryRack &&
      cleanedPrimary.rackd === 'dead'
    ) {
      return (
        'The primary rack controller must be up and running to set a secondary rack controller. ' +
        'Without the primary the secondary DHCP service will not be able to synchronize, ' +
        'preventing it from responding to DHCP requests.'
      );
    }
    if (dhcpOn && !cleanedPrimary && vlan.primaryRack === null) {
      return 'dhcp can only be turned on when a primary rack controller is set.';
    }
    return undefined;
  })();
  if (formError) errors.add('__all__', formError);
  errors.throwIfAny();

  vlan.primaryRack = cleanedPrimary?.systemId ?? null;
  vlan.secondaryRack = cleanedSecondary?.systemId ?? null;
  vlan.mtu = mtu;
  vlan.relayVlanId = relayVlanId;
  vlan.dhcpOn = dhcpOn ?? false;
  if (params.has('name')) vlan.name = params.get('name') ?? null;
  if (vlan.dhcpOn) vlan.relayVlanId = null;
  // Clearing the last rack passes the form (it checks the primary the VLAN had), so MAAS 3.5 saves
  // the VLAN with DHCP on and no primary rack: nothing serves it, and nothing says so.
  model.touch();
  return renderVlan(model, vlan);
}

export const fabricsCollection: OpTable = {
  GET: { '': ({ model }) => [...model.fabrics.keys()].map((id) => renderFabric(model, id)) },
};

export const fabricResource: OpTable = {
  GET: { '': ({ model, path }) => renderFabric(model, findFabric(model, path.fabric_id)) },
};

export const vlansCollection: OpTable = {
  GET: {
    '': ({ model, path }) => {
      const fabricId = findFabric(model, path.fabric_id);
      return [...model.vlans.values()].filter((v) => v.fabricId === fabricId).map((v) => renderVlan(model, v));
    },
  },
};

export const vlanResource: OpTable = {
  GET: { '': ({ model, path }) => renderVlan(model, findVlan(model, path)) },
  PUT: { '': updateVlan },
};

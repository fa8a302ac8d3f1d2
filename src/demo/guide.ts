/** What the demo says around its story: where logs are, the one-line summary, where to look next. */

/** Where logs and state are kept, and for how long; said before anything starts. */
export function logsLine(dir: string, keep: boolean): string {
  return keep
    ? `Logs and state in ${dir} (kept after the demo stops: --keep)`
    : `Logs and state in ${dir} (removed when the demo stops; to keep them, start with --keep: npm start -- --keep)`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The story's last line: how long it took, the racks with their DHCP roles, the subnets. */
export function summary(o: { seconds: number; racks: number; primary: string; secondary: string | null; subnets: readonly string[] }): string {
  const roles = [`${o.primary} DHCP primary`, ...(o.secondary === null ? [] : [`${o.secondary} DHCP secondary`])];
  return (
    `\u2713 Converged in ${o.seconds.toFixed(1)} s: ${plural(o.racks, 'rack')} registered (${roles.join(', ')}), ` +
    `${plural(o.subnets.length, 'subnet')} (${o.subnets.join(', ')}) with gateway, DNS, dynamic range and DHCP.`
  );
}

export interface WhereToLook {
  readonly maasUrl: string;
  readonly simOrigin: string;
  readonly regionBase: string;
  readonly dir: string;
  readonly rackBases: readonly string[];
  /** The DHCP primary's system_id (the simulator's control API takes it) and host name. */
  readonly primaryRack: string;
  readonly primaryName: string;
}

export function whereToLook(o: WhereToLook): string {
  const json = (method: string) => `curl -X ${method} -H 'content-type: application/json'`;
  const drift: readonly (readonly [string, string])[] = [
    ['rotate the region secret (racks re-register):', `curl -X POST ${o.simOrigin}/_sim/region/rotate-secret`],
    [`kill ${o.primaryName}'s rackd (the DHCP primary):`, `${json('POST')} -d '{"status":"dead"}' ${o.simOrigin}/_sim/racks/${o.primaryRack}/rackd`],
    ['make MAAS fail half its answers:', `${json('PUT')} -d '{"errorRate":0.5}' ${o.simOrigin}/_sim/faults`],
  ];
  const oauth = [
    'oauth_version=\\"1.0\\"',
    'oauth_signature_method=\\"PLAINTEXT\\"',
    'oauth_consumer_key=\\"$CK\\"',
    'oauth_token=\\"$TK\\"',
    'oauth_signature=\\"&$TS\\"',
    'oauth_nonce=\\"$RANDOM$RANDOM\\"',
    'oauth_timestamp=\\"$(date +%s)\\"',
  ].join(', ');
  const racks = o.rackBases.map(
    (base, i) => `  ${i === 0 ? 'rack sidecars ' : '              '}   ${base}/readyz   ${base}/metrics   ${base}/v1/status (same token)`,
  );
  const logs = ['region.log', ...o.rackBases.map((_, i) => `rack-${i + 1}.log`), 'simulator.log'];
  return `
Where to look:
  region sidecar   ${o.regionBase}/readyz   ${o.regionBase}/metrics
                   curl -H "Authorization: Bearer $(cat ${o.dir}/token)" ${o.regionBase}/v1/status
${racks.join('\n')}
  MAAS (simulated) ${o.maasUrl}/api/2.0/version/   state: ${o.simOrigin}/_sim/state
                   admin API key in ${o.dir}/maas/api-key
  logs (JSON)      ${o.dir}/${logs.join(', ')}

Make some drift and watch it corrected (within 10 s):
  turn DHCP off behind the sidecar's back (MAAS API, OAuth PLAINTEXT):
    KEY=$(cat ${o.dir}/maas/api-key); IFS=: read CK TK TS <<<"$KEY"
    curl -X PUT -d dhcp_on=false -H "Authorization: OAuth ${oauth}" ${o.maasUrl}/api/2.0/fabrics/0/vlans/0/
${drift.map(([what, command]) => `  ${what.padEnd(48)}${command}`).join('\n')}
`;
}

/**
 * The `event` field of the sidecars' structured log lines: names that programs follow (the demo
 * tells its story from them; an operator's log query may select on them). Message texts are for
 * people and may be reworded; these names are the contract. Each is written here only: code logs
 * `{ event: EVENTS.secretPublished, … }`, and test/unit/log-events.test.ts fails on a literal
 * event name anywhere in src/ or a name here that nothing logs.
 */
export const EVENTS = {
  /** Region: the region API answered `version/` (`version`). */
  regionAnswered: 'region.answered',
  /** Region: `maas-region createadmin` is about to run (`username`). */
  adminCreating: 'admin.creating',
  /** Region: the admin API key works (`username`). */
  adminKeyVerified: 'admin.key_verified',
  /** Region: a new region secret (or URL) is published under a new generation (`generation`). */
  secretPublished: 'secret.published',
  /** Region: one planned action was applied to MAAS (`action`: the kind, `field`, `change`: its fields, `after`). */
  changeApplied: 'change.applied',
  /** Region: a conflict the sidecar leaves for a person (`kind`, `cidr`, `detail`: a sentence). */
  conflictFound: 'conflict.found',
  /** Region: serving /v1 over plain HTTP on a non-loopback address (`host`). */
  tlsOff: 'tls.off',
  /** Rack: the rack fetched the region URL and secret from the region sidecar (`generation`, `url`). */
  secretFetched: 'secret.fetched',
  /** Rack: `maas-rack register` is about to run (`reason`: a few plain words, `generation`). */
  rackRegistering: 'rack.registering',
  /** Rack: `maas-rack register` succeeded (`seconds`). */
  rackRegistered: 'rack.registered',
  /** Rack: MAAS lists the rack with rackd running (`systemId`). */
  rackConfirmed: 'rack.confirmed',
  /** Either: SIDECAR_TOKEN_FILE was re-read after it changed (region: `tokens`, how many). */
  tokenReloaded: 'token.reloaded',
  /** Either: TLS files were re-read after they changed (region: the certificate's summary; rack: `ca`, the CA file's path). */
  tlsReloaded: 'tls.reloaded',
} as const;

export type LogEvent = (typeof EVENTS)[keyof typeof EVENTS];

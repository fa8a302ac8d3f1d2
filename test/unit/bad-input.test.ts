/**
 * The bad-input corpus: config values, HTTP requests to the sidecar API, malformed region answers
 * and malformed MAAS responses. Each must produce a clear error (naming what is wrong) and no crash.
 */
import t from 'tap';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { loadRegionConfig } from '../../src/config/region.js';
import { loadRackConfig } from '../../src/config/rack.js';
import { ConfigError } from '../../src/errors.js';
import { validateRegionInfo } from '../../src/rack/region-client.js';
import { parseRackControllers, parseSubnet, parseVlan } from '../../src/maas/types.js';
import { fileFixtures } from '../helpers/file-fixtures.js';
import { auth, buildRegionApp, TOKEN } from '../helpers/region-app.js';

const { dir, file, sparse, fifo } = await fileFixtures(t, 'bad-input-');
const token = await file('token', `${TOKEN}\n`);
const password = await file('password', 'a-good-password\n');
const REGION_OK = { SIDECAR_TOKEN_FILE: token, MAAS_ADMIN_PASSWORD_FILE: password };
const RACK_OK = { SIDECAR_TOKEN_FILE: token, REGION_SIDECAR_URL: 'http://region:8080', RACK_HOSTNAME: 'rack-a' };

function configProblem(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join(' | ');
    throw err;
  }
  return 'accepted';
}

const regionCase =
  (env: Record<string, string>): (() => Promise<string>) =>
  async () =>
    configProblem(() => loadRegionConfig({ ...REGION_OK, ...env }));
const rackCase =
  (env: Record<string, string>): (() => Promise<string>) =>
  async () =>
    configProblem(() => loadRackConfig({ ...RACK_OK, ...env }));

const { app, publication } = await buildRegionApp(t);
publication.publish('http://region/MAAS', 'ab'.repeat(16));
const http = (request: InjectOptions) => async () => {
  const response = await app.inject(request);
  return `${response.statusCode} ${response.body}`;
};
const rejects = (fn: () => unknown) => async () => {
  try {
    fn();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  return 'accepted';
};

const GOOD_INFO = { ready: true, url: 'http://region:5240/MAAS', secret: 'ab'.repeat(16), generation: '0123456789abcdef' };
const GOOD_VLAN = { id: 1, vid: 0, name: 'untagged', fabric: 'fabric-0', fabric_id: 0, mtu: 1500, dhcp_on: false, primary_rack: null, secondary_rack: null };

const CORPUS: [string, () => Promise<string>, RegExp][] = [
  // Region configuration.
  ['region: no token file', async () => configProblem(() => loadRegionConfig({ MAAS_ADMIN_PASSWORD_FILE: password })), /SIDECAR_TOKEN_FILE is required/],
  ['region: token file missing', regionCase({ SIDECAR_TOKEN_FILE: join(dir, 'nope') }), /SIDECAR_TOKEN_FILE: cannot read .* \(ENOENT\)/],
  ['region: token too short', regionCase({ SIDECAR_TOKEN_FILE: await file('short', 'abc\n') }), /SIDECAR_TOKEN_FILE: .* at least 16 characters/],
  [
    'region: token with three lines',
    regionCase({ SIDECAR_TOKEN_FILE: await file('three', 'aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbbbb\ncccccccccccccccccccc\n') }),
    /must hold one token, or two \(one a line\) while rotating \(found 3 lines\)/,
  ],
  [
    'region: second token too short',
    regionCase({ SIDECAR_TOKEN_FILE: await file('two-short', 'aaaaaaaaaaaaaaaaaaaa\nshort\n') }),
    /^SIDECAR_TOKEN_FILE: .* line 2 must hold at least 16 characters$/,
  ],
  [
    'region: TLS certificate without key',
    regionCase({ SIDECAR_TLS_CERT_FILE: await file('lonely.crt', 'x') }),
    /^SIDECAR_TLS_KEY_FILE is required when SIDECAR_TLS_CERT_FILE is set/,
  ],
  [
    'region: TLS certificate that is not PEM',
    regionCase({ SIDECAR_TLS_CERT_FILE: await file('junk.crt', 'not a certificate'), SIDECAR_TLS_KEY_FILE: await file('junk.key', 'not a key') }),
    /^SIDECAR_TLS_CERT_FILE: .*junk\.crt holds no PEM certificate/,
  ],
  [
    'region: TLS key file missing',
    regionCase({ SIDECAR_TLS_CERT_FILE: await file('c.crt', 'x'), SIDECAR_TLS_KEY_FILE: join(dir, 'nope.key') }),
    /^SIDECAR_TLS_KEY_FILE: cannot read .* \(ENOENT\)$/,
  ],
  [
    'region: client CA without TLS',
    regionCase({ SIDECAR_TLS_CLIENT_CA_FILE: await file('client-ca.crt', 'x') }),
    /^SIDECAR_TLS_CLIENT_CA_FILE needs SIDECAR_TLS_CERT_FILE and SIDECAR_TLS_KEY_FILE/,
  ],
  [
    'rack: https without a CA',
    rackCase({ REGION_SIDECAR_URL: 'https://region:8443' }),
    /^REGION_SIDECAR_CA_FILE is required when REGION_SIDECAR_URL is https:\/\//,
  ],
  [
    'rack: a CA with plain http',
    rackCase({ REGION_SIDECAR_CA_FILE: await file('rack-ca.crt', 'x') }),
    /^REGION_SIDECAR_CA_FILE is set but REGION_SIDECAR_URL is http:\/\/ \(plain HTTP\)/,
  ],
  [
    'rack: a CA file that is not PEM',
    rackCase({ REGION_SIDECAR_URL: 'https://region:8443', REGION_SIDECAR_CA_FILE: await file('rack-junk-ca.crt', 'junk') }),
    /^REGION_SIDECAR_CA_FILE: .* holds no PEM certificate/,
  ],
  [
    'rack: client key without certificate',
    rackCase({ REGION_SIDECAR_URL: 'https://region:8443', REGION_SIDECAR_CA_FILE: join(dir, 'nope.crt'), RACK_TLS_KEY_FILE: await file('rack.key', 'x') }),
    /RACK_TLS_CERT_FILE is required when RACK_TLS_KEY_FILE is set/,
  ],
  [
    'region: no admin password or key',
    async () => configProblem(() => loadRegionConfig({ SIDECAR_TOKEN_FILE: token })),
    /MAAS_ADMIN_PASSWORD_FILE is required unless MAAS_API_KEY_FILE/,
  ],
  ['region: password too short', regionCase({ MAAS_ADMIN_PASSWORD_FILE: await file('pw', 'admin\n') }), /MAAS_ADMIN_PASSWORD_FILE: .* at least 8 characters/],
  ['region: malformed API key', regionCase({ MAAS_API_KEY_FILE: await file('key', 'abc:def\n') }), /MAAS_API_KEY_FILE: .* three alphanumeric parts/],
  ['region: MAAS_URL not a URL', regionCase({ MAAS_URL: 'maas:5240' }), /MAAS_URL must be an http\(s\) URL/],
  ['region: MAAS_URL with credentials', regionCase({ MAAS_URL: 'http://admin:pw@maas:5240/MAAS' }), /MAAS_URL must not carry credentials/],
  ['region: MAAS_PUBLIC_URL ftp', regionCase({ MAAS_PUBLIC_URL: 'ftp://maas/MAAS' }), /MAAS_PUBLIC_URL must be an http\(s\) URL/],
  ['region: port out of range', regionCase({ SIDECAR_LISTEN_PORT: '70000' }), /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "70000"\)$/],
  ['region: port not a number', regionCase({ SIDECAR_LISTEN_PORT: 'http' }), /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "http"\)$/],
  [
    'region: port "true" (was port 1)',
    regionCase({ SIDECAR_LISTEN_PORT: 'true' }),
    /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "true"\)$/,
  ],
  [
    'region: port "false" (was a random port)',
    regionCase({ SIDECAR_LISTEN_PORT: 'false' }),
    /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "false"\)$/,
  ],
  ['region: port 0 (a random port)', regionCase({ SIDECAR_LISTEN_PORT: '0' }), /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "0"\)$/],
  [
    'region: port in hex (was 8080)',
    regionCase({ SIDECAR_LISTEN_PORT: '0x1F90' }),
    /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "0x1F90"\)$/,
  ],
  [
    'region: port with a fraction (was 18089)',
    regionCase({ SIDECAR_LISTEN_PORT: '18089.9' }),
    /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "18089\.9"\)$/,
  ],
  ['region: port with an exponent', regionCase({ SIDECAR_LISTEN_PORT: '8e3' }), /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "8e3"\)$/],
  ['region: port with blanks', regionCase({ SIDECAR_LISTEN_PORT: ' 8080 ' }), /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got " 8080 "\)$/],
  ['region: port with a sign', regionCase({ SIDECAR_LISTEN_PORT: '+8080' }), /^SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 \(got "\+8080"\)$/],
  [
    'region: MAAS timeout "true" (was 1 s)',
    regionCase({ MAAS_TIMEOUT_SECONDS: 'true' }),
    /^MAAS_TIMEOUT_SECONDS must be a whole number from 1 to 600 \(got "true"\)$/,
  ],
  ['region: bad cron', regionCase({ RECONCILE_SCHEDULE: '61 * * * * *' }), /RECONCILE_SCHEDULE must be a cron expression/],
  ['region: zero timeout', regionCase({ RECONCILE_TIMEOUT_SECONDS: '0' }), /^RECONCILE_TIMEOUT_SECONDS must be a whole number from 1 to 3600 \(got "0"\)$/],
  ['region: unknown command mode', regionCase({ COMMAND_MODE: 'ssh' }), /^COMMAND_MODE must be one of: direct, nsenter, kube-exec \(got "ssh"\)$/],
  ['region: command mode shell', regionCase({ COMMAND_MODE: 'shell' }), /^COMMAND_MODE must be one of: direct, nsenter, kube-exec \(got "shell"\)$/],
  [
    'region: shell in the nsenter target',
    regionCase({ COMMAND_MODE: 'nsenter', COMMAND_NSENTER_TARGET: '1; reboot' }),
    /^COMMAND_NSENTER_TARGET must be a pid or a process name: .* \(got "1; reboot"\)$/,
  ],
  ['region: nsenter without target', regionCase({ COMMAND_MODE: 'nsenter' }), /COMMAND_NSENTER_TARGET is required/],
  [
    'region: shell in the region command',
    regionCase({ MAAS_REGION_COMMAND: 'maas-region; reboot' }),
    /^MAAS_REGION_COMMAND must be a command name or path: .* \(got "maas-region; reboot"\)$/,
  ],
  [
    'region: shell in the admin name',
    regionCase({ MAAS_ADMIN_USERNAME: 'admin$(id)' }),
    /^MAAS_ADMIN_USERNAME must be 1 to 150 letters, digits, .* \(got "admin\$\(id\)"\)$/,
  ],
  ['region: bad email', regionCase({ MAAS_ADMIN_EMAIL: 'not-an-email' }), /^MAAS_ADMIN_EMAIL must be an email address, name@domain \(got "not-an-email"\)$/],
  ['region: unknown log level', regionCase({ LOG_LEVEL: 'loud' }), /^LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace \(got "loud"\)$/],
  ['region: URL with credentials is not echoed', regionCase({ MAAS_URL: 'admin:hunter22@maas:5240' }), /^MAAS_URL must be an http\(s\) URL with a host$/],
  [
    'region: listen host not a host',
    regionCase({ SIDECAR_LISTEN_HOST: 'not a host' }),
    /^SIDECAR_LISTEN_HOST must be an IP address .* or a host name \(got "not a host"\)$/,
  ],
  ['region: listen host with a port', regionCase({ SIDECAR_LISTEN_HOST: '0.0.0.0:8080' }), /^SIDECAR_LISTEN_HOST must be an IP address/],
  [
    'region: token file is a FIFO (hung start-up)',
    regionCase({ SIDECAR_TOKEN_FILE: fifo('token.fifo') }),
    /^SIDECAR_TOKEN_FILE: .*token\.fifo is not a regular file \(it is a FIFO \(named pipe\)\)$/,
  ],
  [
    'region: token file is huge',
    regionCase({ SIDECAR_TOKEN_FILE: await sparse('token.big', 10 * 1024 * 1024) }),
    /^SIDECAR_TOKEN_FILE: .* is larger than the limit of 64 KiB \(it is 10 MiB\)$/,
  ],
  [
    'region: password file is a directory',
    regionCase({ MAAS_ADMIN_PASSWORD_FILE: dir }),
    /^MAAS_ADMIN_PASSWORD_FILE: .* is not a regular file \(it is a directory\)$/,
  ],
  [
    'region: password file is a device',
    regionCase({ MAAS_ADMIN_PASSWORD_FILE: '/dev/zero' }),
    /^MAAS_ADMIN_PASSWORD_FILE: \/dev\/zero is not a regular file \(it is a character device\)$/,
  ],
  ['region: API key file is a FIFO', regionCase({ MAAS_API_KEY_FILE: fifo('key.fifo') }), /^MAAS_API_KEY_FILE: .* is not a regular file/],
  [
    'region: API key file is huge',
    regionCase({ MAAS_API_KEY_FILE: await sparse('key.big', 65 * 1024) }),
    /^MAAS_API_KEY_FILE: .* is larger than the limit of 64 KiB \(it is 65 KiB\)$/,
  ],
  [
    'region: 61 MB network config (was accepted)',
    regionCase({ NETWORK_CONFIG_FILE: await sparse('net.big.yaml', 61 * 1024 * 1024) }),
    /^NETWORK_CONFIG_FILE: .* is larger than the limit of 1 MiB \(it is 61 MiB\)$/,
  ],
  ['region: network config is a FIFO', regionCase({ NETWORK_CONFIG_FILE: fifo('net.fifo.yaml') }), /^NETWORK_CONFIG_FILE: .* is not a regular file/],
  [
    'region: several problems and missing required ones, all at once',
    async () => configProblem(() => loadRegionConfig({ SIDECAR_LISTEN_PORT: 'true', COMMAND_MODE: 'shell', MAAS_TIMEOUT_SECONDS: '1.5' })),
    /^(?=.*SIDECAR_LISTEN_PORT must)(?=.*COMMAND_MODE must)(?=.*MAAS_TIMEOUT_SECONDS must)(?=.*SIDECAR_TOKEN_FILE is required)(?=.*MAAS_ADMIN_PASSWORD_FILE is required)/,
  ],
  ['region: network config is not YAML', regionCase({ NETWORK_CONFIG_FILE: await file('n1.yaml', 'subnets: [') }), /NETWORK_CONFIG_FILE .*not valid YAML/],
  [
    'region: network config gateway outside',
    regionCase({ NETWORK_CONFIG_FILE: await file('n2.yaml', 'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.8.0.1 }]') }),
    /gateway 10\.8\.0\.1 is outside 10\.7\.200\.0\/24/,
  ],
  ['region: network config missing file', regionCase({ NETWORK_CONFIG_FILE: join(dir, 'missing.yaml') }), /NETWORK_CONFIG_FILE: cannot read/],
  // Rack configuration.
  ['rack: no region URL', async () => configProblem(() => loadRackConfig({ SIDECAR_TOKEN_FILE: token, RACK_HOSTNAME: 'r' })), /REGION_SIDECAR_URL is required/],
  ['rack: region URL without scheme', rackCase({ REGION_SIDECAR_URL: 'region:8080' }), /REGION_SIDECAR_URL must be an http\(s\) URL/],
  ['rack: bad host name', rackCase({ RACK_HOSTNAME: 'rack_a!' }), /^RACK_HOSTNAME must be a host name label: .* \(got "rack_a!"\)$/],
  [
    'rack: bad provisioning CIDR',
    rackCase({ RACK_PROVISIONING_CIDRS: '10.7.200.0/24,10.8.0.0' }),
    /RACK_PROVISIONING_CIDRS must be comma-separated network\/prefix values \(got "10\.8\.0\.0"\)/,
  ],
  ['rack: wait too long', rackCase({ WATCH_WAIT_SECONDS: '600' }), /^WATCH_WAIT_SECONDS must be a whole number from 1 to 60 \(got "600"\)$/],
  [
    'rack: shell in the rack command',
    rackCase({ MAAS_RACK_COMMAND: 'maas-rack && reboot' }),
    /^MAAS_RACK_COMMAND must be a command name or path: .* \(got "maas-rack && reboot"\)$/,
  ],
  [
    'rack: grace with a fraction (was 1 s)',
    rackCase({ REREGISTER_GRACE_SECONDS: '1.99' }),
    /^REREGISTER_GRACE_SECONDS must be a whole number from 0 to 3600 \(got "1\.99"\)$/,
  ],
  ['rack: negative grace', rackCase({ REREGISTER_GRACE_SECONDS: '-1' }), /^REREGISTER_GRACE_SECONDS must be a whole number from 0 to 3600 \(got "-1"\)$/],
  ['rack: listen host in brackets', rackCase({ SIDECAR_LISTEN_HOST: '[::1]' }), /^SIDECAR_LISTEN_HOST must be an IP address .*without brackets/],
  [
    'rack: token file is a FIFO',
    rackCase({ SIDECAR_TOKEN_FILE: fifo('rack-token.fifo') }),
    /^SIDECAR_TOKEN_FILE: .* is not a regular file \(it is a FIFO \(named pipe\)\)$/,
  ],
  [
    'rack: several problems and missing required ones, all at once (required ones were dropped)',
    async () => configProblem(() => loadRackConfig({ RACK_HOSTNAME: 'r', SIDECAR_LISTEN_PORT: 'false', WATCH_WAIT_SECONDS: '0x10', COMMAND_MODE: 'shell' })),
    /^(?=.*SIDECAR_LISTEN_PORT must)(?=.*WATCH_WAIT_SECONDS must)(?=.*COMMAND_MODE must)(?=.*REGION_SIDECAR_URL is required)(?=.*SIDECAR_TOKEN_FILE is required)/,
  ],
  // HTTP requests to the region sidecar API.
  ['http: no token', http({ method: 'GET', url: '/v1/region' }), /^401 \{"error":"unauthorized"\}$/],
  ['http: wrong token', http({ method: 'GET', url: '/v1/region', headers: { authorization: 'Bearer nope-nope-nope-nope' } }), /^401 /],
  ['http: token in the query string', http({ method: 'GET', url: `/v1/region?token=${TOKEN}` }), /^(401|400) /],
  [
    'http: basic auth',
    http({ method: 'GET', url: '/v1/region', headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } }),
    /^401 /,
  ],
  ['http: a huge token', http({ method: 'GET', url: '/v1/region', headers: { authorization: `Bearer ${'x'.repeat(8000)}` } }), /^401 /],
  ['http: wait not a number', http({ method: 'GET', url: '/v1/region?wait=soon', headers: auth }), /^400 .*wait/],
  ['http: wait too long', http({ method: 'GET', url: '/v1/region?wait=3600', headers: auth }), /^400 /],
  ['http: unknown query parameter', http({ method: 'GET', url: '/v1/region?debug=1', headers: auth }), /^400 /],
  ['http: a huge If-None-Match', http({ method: 'GET', url: '/v1/region', headers: { ...auth, 'if-none-match': 'x'.repeat(500) } }), /^400 /],
  ['http: bad rack host name', http({ method: 'GET', url: '/v1/racks/rack%3Breboot', headers: auth }), /^400 /],
  ['http: path traversal in a host name', http({ method: 'GET', url: '/v1/racks/..%2F..%2Fetc', headers: auth }), /^400 /],
  [
    'http: oversized body',
    http({ method: 'POST', url: '/v1/reconcile', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"x":"${'y'.repeat(40_000)}"}` }),
    /^413 /,
  ],
  [
    'http: malformed JSON body',
    http({ method: 'POST', url: '/v1/reconcile', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"x":' }),
    /^400 /,
  ],
  [
    'http: unsupported body type',
    http({ method: 'POST', url: '/v1/reconcile', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<x/>' }),
    /^415 /,
  ],
  ['http: unknown route', http({ method: 'GET', url: '/v1/secrets', headers: auth }), /^404 /],
  ['http: wrong method', http({ method: 'DELETE', url: '/v1/region', headers: auth }), /^404 /],
  // Malformed answers from the region sidecar, as a rack sees them.
  ['answer: secret not hex', rejects(() => validateRegionInfo({ ...GOOD_INFO, secret: 'g'.repeat(32) })), /MalformedAnswerError/],
  ['answer: odd-length secret (not decodable)', rejects(() => validateRegionInfo({ ...GOOD_INFO, secret: `${'ab'.repeat(16)}c` })), /MalformedAnswerError/],
  ['answer: secret with shell', rejects(() => validateRegionInfo({ ...GOOD_INFO, secret: '$(reboot)' })), /MalformedAnswerError/],
  ['answer: URL javascript:', rejects(() => validateRegionInfo({ ...GOOD_INFO, url: 'javascript:alert(1)' })), /MalformedAnswerError: .*not http\(s\)/],
  ['answer: generation missing', rejects(() => validateRegionInfo({ ...GOOD_INFO, generation: undefined })), /MalformedAnswerError: .*generation/],
  ['answer: an array', rejects(() => validateRegionInfo([GOOD_INFO])), /MalformedAnswerError/],
  ['answer: null', rejects(() => validateRegionInfo(null)), /MalformedAnswerError/],
  // Malformed MAAS responses, as the client sees them.
  ['maas: VLAN without vid', rejects(() => parseVlan({ ...GOOD_VLAN, vid: undefined })), /MaasResponseError: MAAS returned a malformed VLAN: .*vid/],
  ['maas: VLAN vid out of range', rejects(() => parseVlan({ ...GOOD_VLAN, vid: 5000 })), /malformed VLAN: \/vid/],
  ['maas: subnet with a string id', rejects(() => parseSubnet({ id: '1' })), /malformed subnet/],
  ['maas: rack list that is an object', rejects(() => parseRackControllers({ system_id: 'x' })), /malformed rack controller list/],
  [
    'maas: rack without system_id',
    rejects(() => parseRackControllers([{ hostname: 'r', node_type: 2, ip_addresses: [], interface_set: [], service_set: [] }])),
    /malformed rack controller list: .*system_id/,
  ],
];

t.ok(CORPUS.length >= 40, `the corpus holds ${CORPUS.length} bad inputs`);
for (const [name, run, expected] of CORPUS) {
  t.test(name, async (t) => {
    const outcome = await run();
    t.match(outcome, expected);
    t.notMatch(outcome, /accepted/);
    t.notMatch(outcome, TOKEN, 'the error never echoes the token');
  });
}

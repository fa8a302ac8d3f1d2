/**
 * maas_sidecar_dhcp_declared{cidr}: what the declared network says of DHCP, per declared subnet, so
 * MaasDhcpOff can leave out subnets declared `dhcp: false`. Exact /metrics lines.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { loadRegionConfig } from '../../../src/config/region.js';
import { RegionSidecar } from '../../../src/region/sidecar.js';
import { createRegionMetrics, recordDeclaredDhcp } from '../../../src/telemetry/metrics.js';
import { fileFixtures } from '../../helpers/file-fixtures.js';
import { memoryLogger } from '../../helpers/silent-logger.js';

const NETWORK = `
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
  - cidr: 10.7.201.0/24
    gateway: 10.7.201.1
    dynamicRange: { start: 10.7.201.100, end: 10.7.201.200 }
    dhcp: false
  - cidr: 10.7.202.0/24
`;

/** The sample lines of one metric in the exposition, sorted. */
const samples = (exposition: string, name: string) =>
  exposition
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .sort();

t.test('one series per declared subnet: 1 where DHCP is declared on, 0 where it is declared off', async (t) => {
  const registry = new Registry();
  const metrics = createRegionMetrics(registry, { generationAgeSeconds: () => undefined });
  recordDeclaredDhcp(metrics, [
    { cidr: '10.7.200.0/24', dhcp: true },
    { cidr: '10.7.201.0/24', dhcp: false },
  ]);
  t.same(samples(await registry.metrics(), 'maas_sidecar_dhcp_declared'), [
    'maas_sidecar_dhcp_declared{cidr="10.7.200.0/24"} 1',
    'maas_sidecar_dhcp_declared{cidr="10.7.201.0/24"} 0',
  ]);
});

t.test('a declaration loaded again replaces the series: a subnet no longer declared has none', async (t) => {
  const registry = new Registry();
  const metrics = createRegionMetrics(registry, { generationAgeSeconds: () => undefined });
  recordDeclaredDhcp(metrics, [
    { cidr: '10.7.200.0/24', dhcp: true },
    { cidr: '10.7.201.0/24', dhcp: true },
  ]);
  recordDeclaredDhcp(metrics, [{ cidr: '10.7.201.0/24', dhcp: false }]);
  t.same(samples(await registry.metrics(), 'maas_sidecar_dhcp_declared'), ['maas_sidecar_dhcp_declared{cidr="10.7.201.0/24"} 0']);
  recordDeclaredDhcp(metrics, []);
  t.same(samples(await registry.metrics(), 'maas_sidecar_dhcp_declared'), [], 'no declaration, no series');
});

t.test('the region sidecar exports it from its declared network before any pass', async (t) => {
  const files = await fileFixtures(t, 'dhcp-declared-');
  const config = loadRegionConfig({
    SIDECAR_TOKEN_FILE: await files.file('token', 'a-token-of-sixteen-or-more'),
    MAAS_API_KEY_FILE: await files.file('key', 'ck0123456789:tk0123456789:ts0123456789'),
    NETWORK_CONFIG_FILE: await files.file('network.yaml', NETWORK),
    SIDECAR_LISTEN_HOST: '127.0.0.1',
  });
  const sidecar = new RegionSidecar(config, memoryLogger().logger, new Registry());
  t.teardown(() => sidecar.app.close());
  const res = await sidecar.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.same(samples(res.body, 'maas_sidecar_dhcp_declared'), [
    'maas_sidecar_dhcp_declared{cidr="10.7.200.0/24"} 1',
    'maas_sidecar_dhcp_declared{cidr="10.7.201.0/24"} 0',
    'maas_sidecar_dhcp_declared{cidr="10.7.202.0/24"} 0',
  ]);
  t.same(samples(res.body, 'maas_sidecar_dhcp_enabled'), [], 'what MAAS has is only known after a pass');
});

t.test('without a declared network there is no series', async (t) => {
  const files = await fileFixtures(t, 'dhcp-declared-');
  const config = loadRegionConfig({
    SIDECAR_TOKEN_FILE: await files.file('token', 'a-token-of-sixteen-or-more'),
    MAAS_API_KEY_FILE: await files.file('key', 'ck0123456789:tk0123456789:ts0123456789'),
    SIDECAR_LISTEN_HOST: '127.0.0.1',
  });
  const sidecar = new RegionSidecar(config, memoryLogger().logger, new Registry());
  t.teardown(() => sidecar.app.close());
  const res = await sidecar.app.inject({ method: 'GET', url: '/metrics' });
  t.same(samples(res.body, 'maas_sidecar_dhcp_declared'), []);
});

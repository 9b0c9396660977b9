// A real Prometheus (Debian's `prometheus`) with an alerting rule that always fires, and a
// Vigil node as its Alertmanager (alerting.alertmanagers, API v2, the tenant's key as bearer
// credentials): the alert arrives, joins an incident, GET /api/v2/alerts shows it, and
// Prometheus' re-sends (every second here) stay one alert in one incident, stored once (GET
// /v1/alerts). Skipped, saying
// so, when `prometheus` is not installed (a failure under .ci/run, VIGIL_REQUIRE_PEERS=1).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeHandle } from '../node/index.ts';
import type { Alert, Incident } from '../protocols/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { KEYS, startTestNode } from './support/api-node.ts';
import { skipWithout } from './support/peer.ts';
import { prometheusBinary, TestPrometheus } from './support/prometheus.ts';

interface GettableAlert { labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string; fingerprint: string; status: { state: string } }

describe('Prometheus alerting into Vigil as its Alertmanager', function () {
  this.timeout(120_000);
  const binary = prometheusBinary();
  let dir: string;
  let node: NodeHandle;
  let acme: ApiClient;
  let prometheus: TestPrometheus | undefined;

  before(async function () {
    if (!binary) skipWithout(this, '`prometheus` is not installed; apt install prometheus to run this test');
    dir = await mkdtemp(join(tmpdir(), 'vigil-prom-am-'));
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
    await writeFile(join(dir, 'rules.yml'), [
      'groups:',
      '  - name: vigil-test',
      '    interval: 1s',
      '    rules:',
      '      - alert: CheckoutAlwaysFiring',
      '        expr: vector(1) > 0',
      '        labels: { severity: critical, service: checkout }',
      '        annotations: { summary: "the rule always fires" }',
      '',
    ].join('\n'));
    prometheus = await TestPrometheus.start({ binary: binary!, dir, args: ['--rules.alert.resend-delay=1s'], config: [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${JSON.stringify(join(dir, 'rules.yml'))}]`,
      'alerting:',
      '  alertmanagers:',
      '    - api_version: v2',
      `      static_configs: [{ targets: ["${new URL(node.url).host}"] }]`,
      `      authorization: { credentials: ${KEYS.acme} }`,
      '',
    ] });
  });

  after(async () => {
    if (prometheus) await prometheus.stop();
    if (node) await node.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const withLog = (err: Error): never => { throw new Error(`${err.message}; prometheus log: ${prometheus?.logTail()}`); };

  it('the firing alert arrives and GET /api/v2/alerts shows it', async () => {
    const alert = await eventually(async () => (await acme.get<GettableAlert[]>('/api/v2/alerts')).body.find((a) => a.labels.alertname === 'CheckoutAlwaysFiring'), 'the alert', 60_000)
      .catch(withLog);
    assert.deepEqual(alert.labels, { alertname: 'CheckoutAlwaysFiring', severity: 'critical', service: 'checkout' });
    assert.equal(alert.annotations.summary, 'the rule always fires');
    assert.equal(alert.status.state, 'active');
    assert.match(alert.generatorURL, /^http:\/\/.*\/graph\?g0\.expr=/, 'Prometheus says where the rule is');
  });

  it('it joins an incident; Prometheus\' re-sends stay one alert in one incident', async () => {
    const inc = await eventually(async () => (await acme.get<{ incidents: Incident[] }>('/v1/incidents?status=open')).body.incidents[0], 'an incident', 30_000);
    assert.deepEqual(inc.services, ['checkout']);
    assert.equal(inc.title, 'checkout: the rule always fires');
    // Prometheus re-sends the firing alert every second: wait for a few re-sends, then count
    const sent = (): Promise<number> => prometheus!.metricSum('prometheus_notifications_sent_total');
    const first = await sent();
    await eventually(async () => ((await sent()) >= first + 3 ? true : undefined), 'three more re-sends', 30_000);
    const alerts = (await acme.get<GettableAlert[]>('/api/v2/alerts')).body;
    assert.equal(alerts.length, 1);
    const incidents = (await acme.get<{ incidents: Incident[] }>('/v1/incidents')).body.incidents;
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]!.id, inc.id);
    assert.equal(incidents[0]!.alertIds.length, 1);
    // stored once under its incident, however often it was re-sent
    const stored = async (): Promise<Alert[]> => (await acme.get<{ alerts: Alert[] }>(`/v1/alerts?incident=${inc.id}`)).body.alerts;
    const [rec, ...more] = await eventually(async () => ((await stored()).length > 0 ? stored() : undefined), 'the alert stored', 10_000);
    assert.deepEqual(more, []);
    assert.deepEqual([rec!.id, rec!.service, rec!.metric, rec!.labels, rec!.severity, rec!.tier], [incidents[0]!.alertIds[0], 'checkout', 'CheckoutAlwaysFiring', { alertname: 'CheckoutAlwaysFiring', severity: 'critical', service: 'checkout' }, 'critical', undefined]);
    assert.deepEqual((await acme.get<{ alerts: Alert[] }>('/v1/alerts')).body.alerts.map((a) => a.id), [rec!.id]);
  });

  it('Prometheus counted no failed notification', async () => {
    assert.equal(await prometheus!.metricSum('prometheus_notifications_errors_total'), 0, prometheus!.logTail());
  });
});

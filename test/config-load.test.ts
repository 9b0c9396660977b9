// Configuration loading: defaults < YAML file < VIGIL_* environment < flags, and every
// invalid value refused with one message naming the key, the rule and the file.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../cluster/config.ts';
import { hashKey, loadConfig, parseConfigYaml } from '../cluster/config-load.ts';
import { VigilError } from '../protocols/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function refused(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(VigilError.is(err, 'CONFIG_INVALID'), `a CONFIG_INVALID VigilError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('config: loading and precedence', () => {
  it('gives the defaults with no file, environment or flags', () => {
    assert.deepEqual(loadConfig({ env: {} }), defaultConfig());
  });

  it('reads the example file shipped in config/', () => {
    const c = loadConfig({ file: 'config/vigil.example.yaml', env: {} });
    assert.equal(c.http.port, 7400);
    assert.equal(c.tenants[0]!.id, 'acme');
    assert.deepEqual(c.tenants[0]!.keyHashes, [hashKey('acme-example-key')]);
    assert.equal(c.tenants[0]!.metricTiers!.latency_ms, 'agile');
    assert.deepEqual(c.tenants[0]!.metricSensitivity, { latency_ms: { direction: 'up' }, error_rate: { direction: 'up', deviations: 5 } });
    assert.equal(c.actors.restartPeriodMs, 5000);
    assert.equal(c.ingest.maxPastAgeMs, 7 * 24 * 3600_000);
  });

  it('lets the environment override the file, and flags override both', () => {
    const file = yamlFile('p.yaml', 'http:\n  port: 8100\n  host: 0.0.0.0\nlog:\n  level: debug\n');
    const fileOnly = loadConfig({ file, env: {} });
    assert.equal(fileOnly.http.port, 8100);
    assert.equal(fileOnly.http.host, '0.0.0.0');
    const withEnv = loadConfig({ file, env: { VIGIL_PORT: '8200', VIGIL_LOG_LEVEL: 'warn' } });
    assert.equal(withEnv.http.port, 8200);
    assert.equal(withEnv.log.level, 'warn');
    assert.equal(withEnv.http.host, '0.0.0.0', 'keys the environment leaves alone keep the file value');
    const withFlags = loadConfig({ file, env: { VIGIL_PORT: '8200', VIGIL_DATA: '/tmp/env' }, flags: { port: '8300', data: '/tmp/flag' } });
    assert.equal(withFlags.http.port, 8300);
    assert.equal(withFlags.node.dataDir, '/tmp/flag');
    assert.equal(withFlags.log.level, 'debug');
  });

  it('finds the file through VIGIL_CONFIG when no --config is given', () => {
    const file = yamlFile('env.yaml', 'node:\n  id: node-7\n');
    assert.equal(loadConfig({ env: { VIGIL_CONFIG: file } }).node.id, 'node-7');
  });

  it('turns VIGIL_DEMO_API_KEY into the demo tenant and VIGIL_ADMIN_API_KEY into the admin hash', () => {
    const c = loadConfig({ env: { VIGIL_DEMO_API_KEY: 'demo-secret', VIGIL_ADMIN_API_KEY: 'admin-secret' } });
    assert.deepEqual(c.tenants, [{ id: 'demo', keyHashes: [hashKey('demo-secret')] }]);
    assert.equal(c.auth.adminKeyHash, hashKey('admin-secret'));
    assert.equal(hashKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('adds the demo key to a demo tenant the file already has', () => {
    const file = yamlFile('demo.yaml', `tenants:\n  - id: demo\n    keyHashes: [${hashKey('old')}]\n`);
    const c = loadConfig({ file, env: { VIGIL_DEMO_API_KEY: 'new' } });
    assert.equal(c.tenants.length, 1);
    assert.deepEqual(c.tenants[0]!.keyHashes, [hashKey('old'), hashKey('new')]);
  });

  it('accepts durations with units', () => {
    const c = parseConfigYaml('correlation:\n  windowMs: 90s\n  autoResolveMs: 1h\n', 'x.yaml');
    assert.equal(c.correlation.windowMs, 90_000);
    assert.equal(c.correlation.autoResolveMs, 3600_000);
  });
});

describe('config: invalid input is refused with a clear message', () => {
  it('names the key, the rule, the value and the file', () => {
    const file = yamlFile('vigil.yaml', 'http:\n  port: abc\n');
    assert.equal(refused(() => loadConfig({ file, env: {} })), `config error: http.port must be an integer 0..65535 (got "abc") in ${file}`);
  });

  it('refuses out-of-range numbers, bad enums and unknown keys', () => {
    assert.match(refused(() => parseConfigYaml('http:\n  port: 70000\n', 'a.yaml')), /http\.port must be an integer 0\.\.65535 \(got 70000\) in a\.yaml/);
    assert.match(refused(() => parseConfigYaml('log:\n  level: loud\n', 'a.yaml')), /log\.level must be one of trace, debug, info/);
    assert.match(refused(() => parseConfigYaml('detection:\n  threshold: 2\n', 'a.yaml')), /detection\.threshold must be a number 0\.\.1 \(got 2\)/);
    assert.match(refused(() => parseConfigYaml('http:\n  prot: 1\n', 'a.yaml')), /unknown key http\.prot \(known: host, port, bodyLimitBytes, refusalProcess, refusalOffFirstCpu\)/);
    assert.match(refused(() => parseConfigYaml('htp:\n  port: 1\n', 'a.yaml')), /unknown section "htp"/);
    assert.match(refused(() => parseConfigYaml('correlation:\n  windowMs: soon\n', 'a.yaml')), /correlation\.windowMs must be a duration/);
  });

  it('takes capacity 0 (a gateway node), and refuses a gateway that pins tenants', () => {
    assert.equal(parseConfigYaml('cluster:\n  capacity: 0\n', 'a.yaml').cluster.capacity, 0);
    assert.equal(loadConfig({ env: { VIGIL_CLUSTER_CAPACITY: '0' } }).cluster.capacity, 0);
    assert.match(refused(() => parseConfigYaml('cluster:\n  capacity: -1\n', 'a.yaml')), /cluster\.capacity must be a number 0\.\.1000/);
    assert.match(refused(() => parseConfigYaml('cluster:\n  capacity: 0\n  pinnedTenants: [whale]\n', 'a.yaml')), /cluster\.capacity 0 makes a gateway node.*cannot pin tenants \(cluster\.pinnedTenants: whale\)/);
  });

  it('takes a refusal process kept off the first CPU (http.refusalOffFirstCpu), from the file or the environment', () => {
    assert.equal(defaultConfig().http.refusalOffFirstCpu, undefined);
    assert.equal(parseConfigYaml('http:\n  refusalOffFirstCpu: true\n', 'a.yaml').http.refusalOffFirstCpu, true);
    assert.equal(loadConfig({ env: { VIGIL_REFUSAL_OFF_FIRST_CPU: '1' } }).http.refusalOffFirstCpu, true);
    assert.equal(refused(() => loadConfig({ env: { VIGIL_REFUSAL_OFF_FIRST_CPU: 'yes' } })), 'config error: VIGIL_REFUSAL_OFF_FIRST_CPU must be true or false (got "yes")');
  });

  it('takes a node kept for large tenants (cluster.dedicated), and refuses a gateway kept for them', () => {
    assert.equal(defaultConfig().cluster.dedicated, false);
    assert.equal(parseConfigYaml('cluster:\n  dedicated: true\n', 'a.yaml').cluster.dedicated, true);
    assert.equal(loadConfig({ env: { VIGIL_CLUSTER_DEDICATED: '1' } }).cluster.dedicated, true);
    assert.match(refused(() => parseConfigYaml('cluster:\n  dedicated: maybe\n', 'a.yaml')), /cluster\.dedicated must be/);
    assert.match(refused(() => parseConfigYaml('cluster:\n  capacity: 0\n  dedicated: true\n', 'a.yaml')), /cluster\.capacity 0 makes a gateway node.*cannot be kept for large tenants/);
  });

  it('refuses plain keys where hashes belong, and bad tenants', () => {
    assert.match(refused(() => parseConfigYaml('auth:\n  adminKeyHash: my-password\n', 'a.yaml')), /auth\.adminKeyHash must be a sha256 hex hash/);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: Acme Corp\n', 'a.yaml')), /tenants\[0\]\.id must be an id/);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    keyHashes: [nope]\n', 'a.yaml')), /tenants\[0\]\.keyHashes\[0\] must be a sha256/);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n  - id: a\n', 'a.yaml')), /tenants\[1\]\.id "a" appears twice/);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    tier: turbo\n', 'a.yaml')), /tenants\[0\]\.tier must be one of basic, agile, robust/);
    assert.match(refused(() => parseConfigYaml('tenants: 3\n', 'a.yaml')), /tenants must be a list/);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    metricSensitivity:\n      cpu: { direction: sideways }\n', 'a.yaml')),
      /tenants\[0\]\.metricSensitivity\.cpu\.direction must be one of up, down, both/);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    metricSensitivity:\n      mem: { drift: 1 }\n', 'a.yaml')), /tenants\[0\]\.metricSensitivity\.mem\.drift/);
    assert.deepEqual(parseConfigYaml('tenants:\n  - id: a\n    metricSensitivity:\n      mem: { drift: true }\n', 'a.yaml').tenants[0]!.metricSensitivity, { mem: { drift: true } });
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    metricSensitivity:\n      cpu: { bound: 3 }\n', 'a.yaml')),
      /unknown key tenants\[0\]\.metricSensitivity\.cpu\.bound \(known: direction, deviations, threshold, drift\)/);
  });

  it('refuses YAML that does not parse, a missing file, and bad environment and flag values', () => {
    assert.match(refused(() => parseConfigYaml('http: [1,\n', 'broken.yaml')), /broken\.yaml is not valid YAML/);
    assert.match(refused(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })), /cannot read .*missing\.yaml \(ENOENT\)/);
    assert.equal(refused(() => loadConfig({ env: { VIGIL_PORT: 'abc' } })), 'config error: VIGIL_PORT must be an integer 0..65535 (got "abc")');
    assert.equal(refused(() => loadConfig({ env: {}, flags: { port: '-1' } })), 'config error: --port must be an integer 0..65535 (got -1)');
    assert.match(refused(() => loadConfig({ env: { VIGIL_LOG_LEVEL: 'chatty' } })), /VIGIL_LOG_LEVEL must be one of/);
  });

  it('takes limits per node and per tenant, and refuses bad ones', () => {
    const c = parseConfigYaml('limits:\n  maxSeriesPerTenant: 20\ntenants:\n  - id: a\n    maxSeries: 7\n    maxServices: 2\n', 'a.yaml');
    assert.equal(c.limits.maxSeriesPerTenant, 20);
    assert.equal(c.limits.maxServicesPerTenant, defaultConfig().limits.maxServicesPerTenant);
    assert.equal(c.tenants[0]!.maxSeries, 7);
    assert.equal(c.tenants[0]!.maxServices, 2);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    maxSeries: 0\n', 'a.yaml')), /tenants\[0\]\.maxSeries must be an integer 1\.\.100000000 \(got 0\)/);
    assert.equal(parseConfigYaml('tenants:\n  - id: a\n    rawRetentionDays: 30\n', 'a.yaml').tenants[0]!.rawRetentionDays, 30);
    assert.match(refused(() => parseConfigYaml('tenants:\n  - id: a\n    rawRetentionDays: 0\n', 'a.yaml')), /tenants\[0\]\.rawRetentionDays must be an integer 1\.\.3650 \(got 0\)/);
    assert.match(refused(() => parseConfigYaml('limits:\n  maxSeries: 3\n', 'a.yaml')), /unknown key limits\.maxSeries \(known: maxSeriesPerTenant, maxServicesPerTenant\)/);
  });

  it('treats keys named like Object.prototype members as unknown keys, and metrics so named as metrics', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.match(refused(() => parseConfigYaml(`${name}:\n  port: 1\n`, 'a.yaml')), new RegExp(`unknown section "${name}"`));
      assert.match(refused(() => parseConfigYaml(`http:\n  ${name}: 1\n`, 'a.yaml')), new RegExp(`unknown key http\\.${name}`));
      const c = parseConfigYaml(`tenants:\n  - id: a\n    metricTiers: { ${name}: agile }\n    metricSensitivity: { ${name}: { direction: up } }\n`, 'a.yaml');
      assert.ok(Object.hasOwn(c.tenants[0]!.metricTiers!, name), `metricTiers has its own ${name}`);
      assert.equal(c.tenants[0]!.metricTiers![name], 'agile');
      assert.deepEqual({ ...c.tenants[0]!.metricSensitivity![name] }, { direction: 'up' });
    }
  });

  it('keeps an empty section at its defaults', () => {
    assert.deepEqual(parseConfigYaml('http:\n', 'a.yaml'), defaultConfig());
  });
});

describe('config: remoteWrite (Prometheus remote-write mapping)', () => {
  it('defaults to the protocol constants, and the example file states them', () => {
    const d = defaultConfig().remoteWrite;
    assert.deepEqual(d, { serviceLabels: ['service', 'job'], metricLabel: '__name__', dropLabels: [], outOfOrder: 'reject', maxKnownSeries: 100_000 });
    assert.deepEqual(loadConfig({ file: 'config/vigil.example.yaml', env: {} }).remoteWrite, d);
  });

  it('takes lists or comma-separated strings of label names, from the file and the environment', () => {
    const c = parseConfigYaml([
      'remoteWrite:',
      '  serviceLabels: [app, job]',
      '  metricLabel: metric_name',
      '  dropLabels: "instance, pod"',
      '  outOfOrder: drop',
      '  maxKnownSeries: 500',
      '  maxDecodedBytes: 1048576',
      '',
    ].join('\n'), 'a.yaml');
    assert.deepEqual(c.remoteWrite, {
      serviceLabels: ['app', 'job'], metricLabel: 'metric_name', dropLabels: ['instance', 'pod'],
      outOfOrder: 'drop', maxKnownSeries: 500, maxDecodedBytes: 1_048_576,
    });
    const file = yamlFile('rw.yaml', 'remoteWrite:\n  serviceLabels: [app]\n');
    const env = loadConfig({ file, env: { VIGIL_REMOTE_WRITE_SERVICE_LABELS: 'k8s_app,app', VIGIL_REMOTE_WRITE_DROP_LABELS: 'instance' } });
    assert.deepEqual(env.remoteWrite.serviceLabels, ['k8s_app', 'app'], 'the environment overrides the file');
    assert.deepEqual(env.remoteWrite.dropLabels, ['instance']);
    assert.deepEqual(parseConfigYaml('remoteWrite:\n  serviceLabels: [job, job]\n', 'a.yaml').remoteWrite.serviceLabels, ['job'], 'a name given twice counts once');
  });

  it('refuses bad names, an empty service list, a bad mode and unknown keys with one line naming the key', () => {
    assert.equal(refused(() => parseConfigYaml('remoteWrite:\n  serviceLabels: []\n', 'a.yaml')),
      'config error: remoteWrite.serviceLabels must be a list of label names (at least 1) or one comma-separated string, each a Prometheus label name ([A-Za-z_][A-Za-z0-9_]*) (got a list) in a.yaml');
    assert.match(refused(() => parseConfigYaml('remoteWrite:\n  dropLabels: [instance, bad-name]\n', 'a.yaml')),
      /^config error: remoteWrite\.dropLabels must be a list of label names .*; "bad-name" is not one \(got a list\) in a\.yaml$/);
    assert.match(refused(() => parseConfigYaml('remoteWrite:\n  dropLabels: [1]\n', 'a.yaml')), /remoteWrite\.dropLabels must be a list of label names.*; 1 is not one/);
    assert.match(refused(() => parseConfigYaml('remoteWrite:\n  metricLabel: "my metric"\n', 'a.yaml')),
      /^config error: remoteWrite\.metricLabel must be a Prometheus label name \(\[A-Za-z_\]\[A-Za-z0-9_\]\*\) \(got "my metric"\) in a\.yaml$/);
    assert.match(refused(() => parseConfigYaml('remoteWrite:\n  outOfOrder: ignore\n', 'a.yaml')), /remoteWrite\.outOfOrder must be one of reject, drop \(got "ignore"\)/);
    assert.match(refused(() => parseConfigYaml('remoteWrite:\n  maxKnownSeries: 0\n', 'a.yaml')), /remoteWrite\.maxKnownSeries must be an integer 1\.\.100000000 \(got 0\)/);
    assert.match(refused(() => parseConfigYaml('remoteWrite:\n  serviceLabel: app\n', 'a.yaml')),
      /unknown key remoteWrite\.serviceLabel \(known: serviceLabels, metricLabel, dropLabels, outOfOrder, maxKnownSeries, maxDecodedBytes\)/);
    assert.match(refused(() => loadConfig({ env: { VIGIL_REMOTE_WRITE_SERVICE_LABELS: 'app,bad label' } })),
      /^config error: VIGIL_REMOTE_WRITE_SERVICE_LABELS must be a list of label names .*; "bad label" is not one \(got "app,bad label"\)$/);
  });
});

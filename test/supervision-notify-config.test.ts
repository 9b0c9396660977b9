// The configuration of what a degraded node does (issue 10): the on-call and SRE webhooks
// (`notify`, VIGIL_NOTIFY_ON_CALL / VIGIL_NOTIFY_SRE) and a tenant's static limits
// (`tenants[].metricLimits`) for rule-based detection; mistakes are one CONFIG_INVALID line.
import assert from 'node:assert/strict';
import { loadConfig, parseConfigYaml } from '../cluster/config-load.ts';
import { VigilError } from '../protocols/index.ts';

const invalid = (re: RegExp) => (e: unknown): boolean => VigilError.is(e, 'CONFIG_INVALID') && re.test((e as Error).message);

describe('config: notify and metricLimits', () => {
  it('takes the webhooks from the file and the environment (the environment wins), none by default', () => {
    assert.deepEqual(loadConfig({ env: {} }).notify, {});
    const c = parseConfigYaml('notify:\n  onCall: https://oncall.example.com/hook\n  sre: http://127.0.0.1:9/sre\n', 'vigil.yaml');
    assert.deepEqual(c.notify, { onCall: 'https://oncall.example.com/hook', sre: 'http://127.0.0.1:9/sre' });
    const e = loadConfig({ env: { VIGIL_NOTIFY_ON_CALL: 'http://pager.local/x', VIGIL_NOTIFY_SRE: 'https://sre.local/y' } });
    assert.deepEqual(e.notify, { onCall: 'http://pager.local/x', sre: 'https://sre.local/y' });
  });

  it('refuses what is not an http(s) URL, and unknown notify keys', () => {
    assert.throws(() => parseConfigYaml('notify:\n  onCall: ftp://x/y\n', 'v.yaml'), invalid(/notify\.onCall must be an http:\/\/ or https:\/\/ URL/));
    assert.throws(() => parseConfigYaml('notify:\n  sre: not a url\n', 'v.yaml'), invalid(/notify\.sre/));
    assert.throws(() => loadConfig({ env: { VIGIL_NOTIFY_ON_CALL: 'pager' } }), invalid(/VIGIL_NOTIFY_ON_CALL/));
    assert.throws(() => parseConfigYaml('notify:\n  email: ops@example.com\n', 'v.yaml'), invalid(/unknown key notify\.email/));
  });

  it('takes per-metric static limits, and refuses bad ones naming the place', () => {
    const ok = parseConfigYaml('tenants:\n  - id: acme\n    metricLimits:\n      latency_ms: { above: 2000 }\n      free_disk: { below: 0.05 }\n', 'v.yaml');
    assert.deepEqual(ok.tenants[0]!.metricLimits, { latency_ms: { above: 2000 }, free_disk: { below: 0.05 } });
    assert.throws(() => parseConfigYaml('tenants:\n  - id: acme\n    metricLimits:\n      m: { above: high }\n', 'v.yaml'), invalid(/tenants\[0\]\.metricLimits\.m\.above/));
    assert.throws(() => parseConfigYaml('tenants:\n  - id: acme\n    metricLimits:\n      m: { over: 3 }\n', 'v.yaml'), invalid(/unknown key tenants\[0\]\.metricLimits\.m\.over/));
    assert.throws(() => parseConfigYaml('tenants:\n  - id: acme\n    metricLimits:\n      m: { above: 1, below: 2 }\n', 'v.yaml'), invalid(/below \(2\) must be under above \(1\)/));
    assert.throws(() => parseConfigYaml('tenants:\n  - id: acme\n    metricLimits: 5\n', 'v.yaml'), invalid(/metricLimits must map metric names/));
  });
});

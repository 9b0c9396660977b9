// The correlation.* keys: defaults, durations with units, inhibition rules in Alertmanager's
// matcher text, and one-line errors that name the key.
import { strict as assert } from 'node:assert';
import { defaultConfig } from '../cluster/index.ts';
import { parseConfigYaml } from '../cluster/config-load.ts';
import { VigilError } from '../protocols/index.ts';

describe('correlation: configuration', () => {
  it('has Alertmanager\'s defaults for the timers and topology grouping at 2 hops', () => {
    const c = defaultConfig().correlation;
    assert.deepEqual(
      [c.groupWaitMs, c.groupIntervalMs, c.repeatIntervalMs, c.resolveTimeoutMs, c.hops, c.groupBy, c.inhibitRules],
      [30_000, 300_000, 4 * 3600_000, 300_000, 2, [], []],
    );
  });

  it('reads every key, durations with units, inhibition rules as matcher text', () => {
    const c = parseConfigYaml([
      'correlation:',
      '  windowMs: 2m',
      '  hops: 3',
      '  groupBy: [cluster, alertname]',
      '  groupWaitMs: 10s',
      '  groupIntervalMs: 1m',
      '  repeatIntervalMs: 1h',
      '  resolveTimeoutMs: 2m',
      '  reopenMs: 30m',
      '  maxAlerts: 1000',
      '  maxSilences: 50',
      '  inhibitRules:',
      '    - sourceMatchers: [\'alertname="DatabaseDown"\']',
      '      targetMatchers: [\'severity=~"warning|info"\', \'team!="db"\']',
      '      equal: [cluster]',
    ].join('\n'), 'vigil.yaml').correlation;
    assert.deepEqual([c.windowMs, c.hops, c.groupBy, c.groupWaitMs, c.groupIntervalMs, c.repeatIntervalMs, c.resolveTimeoutMs, c.reopenMs, c.maxAlerts, c.maxSilences],
      [120_000, 3, ['cluster', 'alertname'], 10_000, 60_000, 3600_000, 120_000, 1_800_000, 1000, 50]);
    assert.deepEqual(c.inhibitRules, [{
      sourceMatchers: [{ name: 'alertname', value: 'DatabaseDown', isRegex: false, isEqual: true }],
      targetMatchers: [{ name: 'severity', value: 'warning|info', isRegex: true, isEqual: true }, { name: 'team', value: 'db', isRegex: false, isEqual: false }],
      equal: ['cluster'],
    }]);
  });

  it('refuses a bad rule or value with one line naming the key', () => {
    const bad = (yaml: string, re: RegExp) => assert.throws(() => parseConfigYaml(yaml, 'vigil.yaml'), (e) => VigilError.is(e, 'CONFIG_INVALID') && re.test(e.message) && !e.message.includes('\n'));
    bad('correlation: { inhibitRules: [{ sourceMatchers: [\'alertname=~"(a+)+"\'], targetMatchers: [\'x="y"\'] }] }', /correlation\.inhibitRules.*repeats a group/);
    bad('correlation: { inhibitRules: [{ sourceMatchers: [], targetMatchers: [\'x="y"\'] }] }', /correlation\.inhibitRules.*non-empty/);
    bad('correlation: { inhibitRules: [{ source: [\'a="b"\'] }] }', /correlation\.inhibitRules/);
    bad('correlation: { hops: 99 }', /correlation\.hops must be an integer 0\.\.16/);
    bad('correlation: { groupBy: ["not a label"] }', /correlation\.groupBy/);
    bad('correlation: { groupWaitMs: soon }', /correlation\.groupWaitMs must be a duration/);
  });
});

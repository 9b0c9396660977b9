// Silences: Alertmanager's matchers (=, !=, =~, !~, anchored regexes), a span of time, expiry;
// silenced alerts join no incident until the silence ends.
import { strict as assert } from 'node:assert';
import {
  compileMatcher, matcherText, parseMatchers, SilenceBook, SILENCE_RETENTION_MS, TenantCorrelation, type Matcher,
} from '../actors/correlation/index.ts';
import { VigilError } from '../protocols/index.ts';
import { amAlert, incidents, SETTINGS } from './support/correlation-fixtures.ts';

const m = (name: string, value: string, isRegex = false, isEqual = true): Matcher => ({ name, value, isRegex, isEqual });
const LONG = 10 * 3600_000;
let ids = 0;
const newId = () => `sil-${++ids}`;
const code = (c: string) => (err: unknown) => VigilError.is(err) && err.code === c;

describe('correlation: silences', () => {
  it('matchers: equality, negation, anchored regexes, a missing label as ""', () => {
    const labels = { service: 'api', env: 'prod-eu' };
    assert.equal(compileMatcher(m('service', 'api')).test(labels), true);
    assert.equal(compileMatcher(m('service', 'api', false, false)).test(labels), false);
    assert.equal(compileMatcher(m('env', 'prod.*', true)).test(labels), true);
    assert.equal(compileMatcher(m('env', 'prod', true)).test(labels), false, 'anchored: the whole value');
    assert.equal(compileMatcher(m('env', 'dev.*', true, false)).test(labels), true);
    assert.equal(compileMatcher(m('team', '')).test(labels), true, 'missing equals empty');
    assert.equal(compileMatcher(m('team', '.+', true)).test(labels), false);
  });

  it('parses matchers as amtool writes them, and prints them back', () => {
    const parsed = parseMatchers('{alertname="Disk, full", env=~"prod|stage", team!="db", host!~"x.*"}');
    assert.deepEqual(parsed, [
      m('alertname', 'Disk, full'), m('env', 'prod|stage', true), m('team', 'db', false, false), m('host', 'x.*', true, false),
    ]);
    assert.deepEqual(parsed.map(matcherText), ['alertname="Disk, full"', 'env=~"prod|stage"', 'team!="db"', 'host!~"x.*"']);
    assert.throws(() => parseMatchers('alertname'), code('BAD_REQUEST'));
  });

  it('refuses a bad regex, a regex that can backtrack without bound, and a silence that matches everything', () => {
    assert.throws(() => compileMatcher(m('a', '(', true)), code('BAD_REQUEST'));
    assert.throws(() => compileMatcher(m('a', '(a+)+$', true)), /repeats a group/);
    assert.throws(() => compileMatcher(m('a', '(x*)*', true)), /repeats a group/);
    assert.doesNotThrow(() => compileMatcher(m('a', '(ab)+c*', true)));
    assert.throws(() => compileMatcher(m('a', '(a)\\1', true)), /back-references/);
    const book = new SilenceBook();
    assert.throws(() => book.put({ matchers: [m('a', '.*', true)], endsAt: 10, createdBy: 'me', comment: '' }, 0, newId), /empty string/);
    assert.throws(() => book.put({ matchers: [], endsAt: 10, createdBy: 'me', comment: '' }, 0, newId), /at least one matcher/);
    assert.throws(() => book.put({ matchers: [m('a', 'x')], startsAt: 20, endsAt: 10, createdBy: 'me', comment: '' }, 0, newId), /after startsAt/);
  });

  it('a silenced alert joins no incident and is listed as suppressed, by which silence', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    const { silence } = c.putSilence({ matchers: [m('service', 'db')], endsAt: 100_000, createdBy: 'sre', comment: 'maintenance' }, 0, newId);
    const db = amAlert('db', 'Slow', 1_000, { endsAt: LONG });
    assert.deepEqual(c.onAlerts([db], 1_000).effects, []);
    assert.equal(c.activeCount(), 0);
    const view = c.alertViews(1_000)[0]!;
    assert.equal(view.state, 'suppressed');
    assert.deepEqual(view.silencedBy, [silence.id]);
    assert.equal(incidents(c.onAlerts([amAlert('api', 'Slow', 2_000)], 2_000).effects).length, 1, 'others are not silenced');
  });

  it('expiring a silence lets the alerts it held join an incident at once', () => {
    const c = new TenantCorrelation('acme', { ...SETTINGS, windowMs: LONG });
    const { silence } = c.putSilence({ matchers: [m('service', 'db')], endsAt: 100_000, createdBy: 'sre', comment: '' }, 0, newId);
    c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: LONG })], 1_000);
    const { silence: expired, effects } = c.expireSilence(silence.id, 5_000);
    assert.equal(expired.endsAt, 5_000);
    assert.equal(c.silence(silence.id, 5_000)!.state, 'expired');
    assert.equal(incidents(effects).length, 1);
    assert.equal(c.alertViews(5_000)[0]!.state, 'active');
  });

  it('a silence that ends by itself, and one that starts later, take effect at their time', () => {
    const c = new TenantCorrelation('acme', { ...SETTINGS, windowMs: LONG });
    c.putSilence({ matchers: [m('service', 'db')], endsAt: 60_000, createdBy: 'sre', comment: '' }, 0, newId);
    c.putSilence({ matchers: [m('service', 'api')], startsAt: 30_000, endsAt: 90_000, createdBy: 'sre', comment: '' }, 0, newId);
    c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: LONG })], 1_000);
    assert.equal(c.activeCount(), 0);
    assert.equal(incidents(c.onAlerts([amAlert('api', 'Slow', 2_000, { endsAt: LONG })], 2_000).effects).length, 1, 'not yet silenced at 2 s');
    assert.deepEqual(c.silenceList(2_000).map((s) => s.state).sort(), ['active', 'pending']);
    assert.equal(incidents(c.tick(59_999)).length, 0);
    const freed = c.tick(60_000);
    assert.equal(incidents(freed).length, 1, 'db joins once its silence ended');
    assert.equal(c.alertViews(60_000).find((v) => v.service === 'db')!.state, 'active');
  });

  it('changes: an active silence keeps its start, an expired one cannot change, an unknown one is not found', () => {
    const book = new SilenceBook();
    const s = book.put({ matchers: [m('a', 'x')], startsAt: 0, endsAt: 50_000, createdBy: 'me', comment: 'one' }, 0, newId);
    const changed = book.put({ id: s.id, matchers: [m('a', 'y')], startsAt: 20_000, endsAt: 70_000, createdBy: 'me', comment: 'two' }, 10_000, newId);
    assert.deepEqual([changed.id, changed.startsAt, changed.endsAt, changed.comment], [s.id, 0, 70_000, 'two']);
    book.expire(s.id, 30_000);
    assert.throws(() => book.put({ id: s.id, matchers: [m('a', 'y')], endsAt: 90_000, createdBy: 'me', comment: '' }, 40_000, newId), code('CONFLICT'));
    assert.throws(() => book.put({ id: 'nope', matchers: [m('a', 'y')], endsAt: 90_000, createdBy: 'me', comment: '' }, 40_000, newId), code('NOT_FOUND'));
    assert.throws(() => book.expire('nope', 40_000), code('NOT_FOUND'));
    assert.equal(book.expire(s.id, 45_000).endsAt, 30_000, 'expiring again changes nothing');
    assert.equal(book.list(30_000 + SILENCE_RETENTION_MS - 1).length, 1, 'expired silences stay listed');
    assert.equal(book.list(30_000 + SILENCE_RETENTION_MS).length, 0, 'until their retention ends');
  });

  it('a tenant holds at most maxSilences', () => {
    const book = new SilenceBook(2);
    book.put({ matchers: [m('a', '1')], endsAt: 10, createdBy: 'me', comment: '' }, 0, newId);
    book.put({ matchers: [m('a', '2')], endsAt: 10, createdBy: 'me', comment: '' }, 0, newId);
    assert.throws(() => book.put({ matchers: [m('a', '3')], endsAt: 10, createdBy: 'me', comment: '' }, 0, newId), code('QUOTA_EXCEEDED'));
  });
});

// A tenant's regular expressions (silence matchers, Alertmanager `filter` queries) run in the
// node's one thread: a pattern that backtracks without bound would stall every tenant. The
// syntactic check of actors/correlation/matchers.ts refused nested repetition only; ambiguous
// alternation ((a|a)*) and polynomial runs (.*.*.*x on a 4 KB label value) went through and
// took seconds to hours. These tests hang (mocha's timeout fails them) if a pattern backtracks.
import assert from 'node:assert/strict';
import { compileMatcher } from '../actors/correlation/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { ApiClient, type ErrorReply } from './support/api-client.ts';
import { KEYS, startTestNode } from './support/api-node.ts';

// Each took at least seconds before the fix on a value of this size (measured: (a|a)* 0.3 s at
// 24 characters and doubling per character; .*.*.*x 16 s at 4 KB).
const HOSTILE = ['(a|a)*', '(a|aa)*c', '(?:a|a)+c', '.*.*.*.*x', '.*a.*a.*a.*x', 'a*a*a*a*a*a*a*a*a*c', '(\\w|a)*!'];
const VALUE = `${'a'.repeat(4000)}b`;

describe('security: hostile regular expressions from a tenant', function () {
  this.timeout(20_000);

  it('matches every hostile pattern against a 4 KB label value without backtracking', () => {
    for (const value of HOSTILE) {
      const m = compileMatcher({ name: 'x', value, isRegex: true, isEqual: true });
      assert.equal(m.test({ x: VALUE }), false, value);
    }
    assert.equal(compileMatcher({ name: 'x', value: '(a|a)*', isRegex: true, isEqual: true }).test({ x: 'aaaa' }), true, 'still a regex');
    // ordinary patterns keep working
    assert.equal(compileMatcher({ name: 's', value: 'api|web', isRegex: true, isEqual: true }).test({ s: 'web' }), true);
    assert.equal(compileMatcher({ name: 's', value: 'prod-.*-eu', isRegex: true, isEqual: false }).test({ s: 'prod-1-eu' }), false);
  });

  it('refuses, with a reason, a pattern that cannot run in linear time', () => {
    for (const value of ['(?=a)a', 'a{1,5000}', '(?<!x)y']) {
      assert.throws(() => compileMatcher({ name: 'x', value, isRegex: true, isEqual: true }), /cannot be matched in linear time/, value);
    }
    assert.throws(() => compileMatcher({ name: 'x', value: '(a+)+', isRegex: true, isEqual: true }), /repeats a group/, 'the older check still names nested repetition');
  });

  describe('through the API of a node', () => {
    let node: NodeHandle;
    let acme: ApiClient;
    let globex: ApiClient;
    before(async () => {
      node = await startTestNode();
      acme = new ApiClient(node.url, KEYS.acme);
      globex = new ApiClient(node.url, KEYS.globex);
    });
    after(async () => node.stop());

    it('a hostile silence and filter over long label values leave the node serving everyone', async () => {
      const silence = await acme.request('POST', '/v1/silences', { matchers: [{ name: 'x', value: '(a|a)+', isRegex: true }], endsAt: Date.now() + 3600_000 });
      assert.equal(silence.status, 201, JSON.stringify(silence.body));
      // alerts whose label the silence must now match (correlator: every alert against every silence)
      const alerts = Array.from({ length: 10 }, (_, i) => ({ labels: { alertname: `a${i}`, x: VALUE } }));
      assert.equal((await acme.request('POST', '/api/v2/alerts', alerts)).status, 200);
      const listed = await acme.get<unknown[]>(`/api/v2/alerts?filter=${encodeURIComponent('x=~".*.*.*.*x"')}`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body, []);
      // the other tenant is served (a stalled event loop would time this test out)
      assert.equal((await globex.get('/v1/incidents')).status, 200);
      const refused = await acme.get<ErrorReply>(`/api/v2/alerts?filter=${encodeURIComponent('x=~"(?=a)a"')}`);
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /linear time/);
    });
  });
});

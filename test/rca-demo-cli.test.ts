// `vigil demo` prints the incident's ranked root causes as they are computed (it reads
// GET /v1/incidents/:id/rca as a user would): once the slowness has spread past db, the
// ranking names db, where the fault was injected, first.
import { strict as assert } from 'node:assert';
import { spawnVigil } from './support/cli-process.ts';

describe('rca: vigil demo prints the ranked root causes', function () {
  this.timeout(180_000);

  it('prints a ranking of several alerting services with db, the faulty service, first', async () => {
    const demo = spawnVigil(['demo', '--port', '0', '--seed', '4', '--history', '24h', '--step', '2s', '--fault-after', '15s'], {
      VIGIL_DEMO_API_KEY: 'demo-key-for-the-rca-test', VIGIL_ADMIN_API_KEY: '', VIGIL_CONFIG: '',
    });
    try {
      await demo.waitFor((l) => l.includes('root causes: curl -s') && l.includes('/v1/incidents/<id>/rca'), 60_000);
      // a ranking printed after the incident spans more than one service
      const head = await demo.waitFor((l) => /root causes of inc_[0-9a-f]+ \(L0 causal; alerts on [^;]+, [^;]+;/.test(l), 150_000);
      // its lines follow it, printed together (another incident's ranking may come before it)
      const at = demo.lines.indexOf(head);
      await demo.waitFor(() => demo.lines.length > at + 2, 10_000);
      assert.match(demo.lines[at + 1]!, /^\[\+[\d.]+s\] {3}1\. db +\d\.\d{3} {2}latency_ms up from \d\d:\d\d:\d\d UTC, deviation [\d.]+$/, demo.lines.join('\n'));
      assert.match(demo.lines[at + 2]!, /^\[\+[\d.]+s\] {3}2\. \w+ +\d\.\d{3} /, demo.lines.join('\n'));
    } finally {
      await demo.stop('SIGKILL');
    }
  });
});

// Names that are properties of Object.prototype (__proto__, constructor, toString, ...)
// are ordinary names: as services, metrics, label keys and label values they are stored
// and detected like any other, no actor crashes, and their siblings keep their baselines.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import type { AnomalyEvent, SeriesInput } from '../protocols/index.ts';
import { flattenTree } from '../supervisors/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { tierDetectors } from '../cluster/index.ts';
import { startNode } from '../node/index.ts';
import pino from 'pino';
import { KEYS, testConfig } from './support/api-node.ts';

const NAMES = Object.getOwnPropertyNames(Object.prototype);
const MIN = 60_000;
const N = 120; // samples of a flat, noisy baseline per series before any spike

/** A noisy flat series of N one-minute samples from `from`, with `spikeAt` (an index) raised 20×. */
function flat(from: number, spikeAt = -1): Array<[number, number]> {
  return Array.from({ length: N }, (_, i): [number, number] => [from + i * MIN, (i === spikeAt ? 200 : 10) + ((i * 7919) % 13) / 13]);
}

describe('api: names that are Object.prototype properties', () => {
  let node: NodeHandle;
  let acme: ApiClient;
  const base = Date.now() - 3 * N * MIN;

  before(async () => {
    // the real detectors: a tier looked up by a metric called `constructor` must be a tier
    node = await startNode(testConfig({ bodyLimitBytes: 4 << 20 }), { logger: pino({ level: 'silent' }), detectors: tierDetectors() });
    acme = new ApiClient(node.url, KEYS.acme);
  });
  after(async () => node.stop());

  it('has the names it means to test', () => {
    for (const n of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']) assert.ok(NAMES.includes(n), n);
  });

  it('stores and detects them as service, metric, label key and label value', async () => {
    const series: SeriesInput[] = [];
    for (const [i, name] of NAMES.entries()) {
      series.push({ service: name, metric: 'latency_ms', samples: flat(base + i) });
      series.push({ service: 'proto-metrics', metric: name, samples: flat(base) });
      // JSON.parse makes "__proto__" an own key, as a client's JSON body does
      series.push({ service: 'proto-labels', metric: 'errors', labels: JSON.parse(`{${JSON.stringify(name)}: "a"}`) as Record<string, string>, samples: flat(base + i) });
      series.push({ service: 'proto-values', metric: 'errors', labels: { kind: name }, samples: flat(base + i) });
    }
    // a spike on a prototype-named series, and one on a sibling of the same service
    series.push({ service: '__proto__', metric: 'constructor', samples: flat(base, N - 10) });
    series.push({ service: '__proto__', metric: 'sibling', samples: flat(base, N - 5) });
    const r = await acme.postMetrics(series);
    assert.equal(r.status, 202, JSON.stringify(r.body));

    for (const name of NAMES) {
      const q = (service: string, metric: string) => acme.get<{ samples: Array<[number, number]> }>(
        `/v1/series?service=${encodeURIComponent(service)}&metric=${encodeURIComponent(metric)}`);
      await eventually(async () => ((await q(name, 'latency_ms')).body.samples?.length === N ? true : undefined), `service ${name} stored`);
      assert.equal((await q('proto-metrics', name)).body.samples.length, N, `metric ${name}`);
    }
    // every label key and every label value kept its own series: N samples each
    const byKey = await acme.get<{ samples: unknown[] }>('/v1/series?service=proto-labels&metric=errors&limit=10000');
    assert.equal(byKey.body.samples.length, N * NAMES.length);
    const byValue = await acme.get<{ samples: unknown[] }>('/v1/series?service=proto-values&metric=errors&limit=10000');
    assert.equal(byValue.body.samples.length, N * NAMES.length);

    const found = await eventually(async () => {
      const a = await acme.get<{ anomalies: AnomalyEvent[] }>('/v1/anomalies?service=__proto__');
      return a.body.anomalies.length >= 2 ? a.body.anomalies : undefined;
    }, 'both spikes flagged');
    assert.deepEqual(found.map((a) => `${a.metric}@${(a.timestamp - base) / MIN}`).sort(), [`constructor@${N - 10}`, `sibling@${N - 5}`]);

    const crashed = flattenTree(node.engine.tree()).filter((n) => n.restarts > 0);
    assert.deepEqual(crashed.map((n) => n.path), [], 'no actor restarted');
  });
});

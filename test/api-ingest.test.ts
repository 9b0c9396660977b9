// POST /v1/metrics against a real node: JSON and protobuf are accepted and readable back;
// every kind of bad input gets a 4xx with a reason, is refused whole, and loses nothing
// accepted before it.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import { encodeMetricBatch, wire } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply, type Reply } from './support/api-client.ts';
import { KEYS, SMALL_BODY_LIMIT, startTestNode } from './support/api-node.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe('api: ingest', () => {
  let node: NodeHandle;
  let api: ApiClient;
  const t0 = Date.now() - 5 * MIN;

  before(async () => {
    node = await startTestNode();
    api = new ApiClient(node.url, KEYS.acme);
  });
  after(async () => node.stop());

  it('accepts a JSON batch with 202 {accepted} and reads it back from /v1/series', async () => {
    const r = await api.postMetrics([
      { service: 'checkout', metric: 'latency_ms', labels: { region: 'eu' }, samples: [[t0, 12.5], [t0 + 1000, 13]] },
      { service: 'checkout', metric: 'errors', samples: [[t0, 0]] },
    ]);
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { accepted: 3 });
    const samples = await eventually(async () => {
      const s = await api.samples('checkout', 'latency_ms');
      return s.length === 2 ? s : undefined;
    }, 'ingested samples');
    assert.deepEqual(samples, [[t0, 12.5], [t0 + 1000, 13]]);
  });

  it('accepts the same batch as protobuf (the tenant field in the body is ignored)', async () => {
    const series = [{ service: 'payments', metric: 'rps', labels: { region: 'us' }, samples: [[t0, 1], [t0 + 1000, 2], [t0 + 2000, 3]] as Array<[number, number]> }];
    const r = await api.postProtobuf(series);
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { accepted: 3 });
    const samples = await eventually(async () => {
      const s = await api.samples('payments', 'rps');
      return s.length === 3 ? s : undefined;
    }, 'protobuf samples');
    assert.deepEqual(samples.map((p) => p[1]), [1, 2, 3]);
    // the batch named tenant 'ignored': another tenant's key must not see it either
    assert.deepEqual(await api.withKey(KEYS.globex).samples('payments', 'rps'), []);
  });

  describe('refuses bad input with a 4xx and a reason', () => {
    const good = () => ({ service: 'checkout', metric: 'latency_ms', samples: [[Date.now() - MIN, 1]] });
    const json = (body: unknown) => ({ body: JSON.stringify(body) });
    const proto = (body: Uint8Array) => ({ body, type: 'application/x-protobuf' });
    const protoValue = (v: number) => proto(encodeMetricBatch('', [{ service: 'checkout', metric: 'latency_ms', samples: [[Date.now() - MIN, v]] }]));
    const big = 'x'.repeat(SMALL_BODY_LIMIT + 1);

    const cases: Array<{ name: string; body: string | Uint8Array; type?: string; key?: string | null; status: number; code: string; reason: RegExp }> = [
      { name: 'malformed JSON', body: '{"series": [', status: 400, code: 'BAD_REQUEST', reason: /body is not valid JSON: .+/ },
      { name: 'an empty JSON body', body: '', status: 400, code: 'BAD_REQUEST', reason: /body is empty/ },
      { name: 'a value given as a string', ...json({ series: [{ ...good(), samples: [[Date.now(), '12.5']] }] }), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.samples\[0\]\[1\]: must be a finite number/ },
      { name: 'NaN spelled as a JSON string', ...json({ series: [{ ...good(), samples: [[Date.now(), 'NaN']] }] }), status: 400, code: 'BAD_REQUEST', reason: /samples\[0\]\[1\]: must be a finite number/ },
      { name: 'a timestamp given as a string', ...json({ series: [{ ...good(), samples: [['2024-11-28T00:00:00Z', 1]] }] }), status: 400, code: 'BAD_REQUEST', reason: /samples\[0\]\[0\]: must be a finite number/ },
      { name: 'a sample that is not a pair', ...json({ series: [{ ...good(), samples: [[Date.now()]] }] }), status: 400, code: 'BAD_REQUEST', reason: /samples\[0\]: must NOT have fewer than 2 items/ },
      { name: 'a sample with three numbers', ...json({ series: [{ ...good(), samples: [[Date.now(), 1, 2]] }] }), status: 400, code: 'BAD_REQUEST', reason: /samples\[0\]: must NOT have more than 2 items/ },
      { name: 'a service that is not a string', ...json({ series: [{ ...good(), service: 42 }] }), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.service: must be string/ },
      { name: 'a service name with spaces', ...json({ series: [{ ...good(), service: 'check out' }] }), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.service: must match pattern/ },
      { name: 'a metric name too long', ...json({ series: [{ ...good(), metric: 'm'.repeat(129) }] }), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.metric: must NOT have more than 128 characters/ },
      { name: 'too many labels', ...json({ series: [{ ...good(), labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }] }), status: 400, code: 'BAD_REQUEST', reason: /labels: must NOT have more than 32 properties/ },
      { name: 'a label value too long', ...json({ series: [{ ...good(), labels: { region: 'e'.repeat(257) } }] }), status: 400, code: 'BAD_REQUEST', reason: /labels\.region: must NOT have more than 256 characters/ },
      { name: 'a label key with a dash', ...json({ series: [{ ...good(), labels: { 'bad-key': 'v' } }] }), status: 400, code: 'BAD_REQUEST', reason: /invalid key 'bad-key'/ },
      { name: 'a label value that is a number', ...json({ series: [{ ...good(), labels: { region: 1 } }] }), status: 400, code: 'BAD_REQUEST', reason: /labels\.region: must be string/ },
      { name: 'an unknown top-level field', ...json({ series: [good()], tenant: 'globex' }), status: 400, code: 'BAD_REQUEST', reason: /unknown field 'tenant'/ },
      { name: 'an unknown series field', ...json({ series: [{ ...good(), unit: 'ms' }] }), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]: unknown field 'unit'/ },
      { name: 'a missing series field', ...json({ series: [{ service: 'checkout', samples: [[Date.now(), 1]] }] }), status: 400, code: 'BAD_REQUEST', reason: /missing field 'metric'/ },
      { name: 'no series at all', ...json({}), status: 400, code: 'BAD_REQUEST', reason: /missing field 'series'/ },
      { name: 'an empty series list', ...json({ series: [] }), status: 400, code: 'BAD_REQUEST', reason: /series: must NOT have fewer than 1 items/ },
      { name: 'a body that is an array', ...json([good()]), status: 400, code: 'BAD_REQUEST', reason: /body: must be object/ },
      { name: 'a __proto__ key (an ordinary, unknown field)', body: '{"series":[],"__proto__":{"x":1}}', status: 400, code: 'BAD_REQUEST', reason: /unknown field '__proto__'/ },
      { name: 'a timestamp far in the future', ...json({ series: [{ ...good(), samples: [[Date.now() + DAY, 1]] }] }), status: 400, code: 'BAD_REQUEST', reason: /samples\[0\]: timestamp \d+ is too far in the future/ },
      { name: 'a timestamp far in the past', ...json({ series: [{ ...good(), samples: [[Date.now() - 8 * DAY, 1]] }] }), status: 400, code: 'BAD_REQUEST', reason: /samples\[0\]: timestamp \d+ is too old/ },
      { name: 'a timestamp in seconds', ...json({ series: [{ ...good(), samples: [[Math.floor(Date.now() / 1000), 1]] }] }), status: 400, code: 'BAD_REQUEST', reason: /too old/ },
      { name: 'a fractional timestamp', ...json({ series: [{ ...good(), samples: [[Date.now() - 0.5, 1]] }] }), status: 400, code: 'BAD_REQUEST', reason: /not an integer/ },
      { name: 'a huge number as value (1e400 parses to Infinity)', body: `{"series":[{"service":"checkout","metric":"latency_ms","samples":[[${Date.now()},1e400]]}]}`, status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.samples\[0\]\[1\]: must be a finite number/ },
      { name: 'NaN in protobuf', ...protoValue(NaN), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.samples\[0\]\[1\]: must be a finite number/ },
      { name: 'Infinity in protobuf', ...protoValue(Infinity), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.samples\[0\]\[1\]: must be a finite number/ },
      { name: '-Infinity in protobuf', ...protoValue(-Infinity), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.samples\[0\]\[1\]: must be a finite number/ },
      { name: 'malformed protobuf', ...proto(Uint8Array.from([0x12, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])), status: 400, code: 'BAD_REQUEST', reason: /not a valid MetricBatch/ },
      { name: 'protobuf with timestamps and values of different lengths', ...proto(wire.MetricBatch.encode({ series: [{ service: 'checkout', metric: 'latency_ms', timestamps: [Date.now(), Date.now()], values: [1] }] }).finish()), status: 400, code: 'BAD_REQUEST', reason: /2 timestamps but 1 values/ },
      { name: 'protobuf with an invalid service name', ...proto(encodeMetricBatch('', [{ service: '', metric: 'm', samples: [[Date.now(), 1]] }])), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.service/ },
      { name: 'an oversized JSON body', ...json({ series: [{ ...good(), labels: { pad: big } }] }), status: 413, code: 'PAYLOAD_TOO_LARGE', reason: /larger than the node accepts \(http\.bodyLimitBytes\)/ },
      { name: 'an oversized protobuf body', ...proto(new Uint8Array(SMALL_BODY_LIMIT + 1)), status: 413, code: 'PAYLOAD_TOO_LARGE', reason: /larger than the node accepts \(http\.bodyLimitBytes\)/ },
      { name: 'an unsupported content type', body: 'checkout latency_ms 1', type: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: /unsupported Content-Type: send application\/json/ },
      { name: 'an octet stream', body: 'abc', type: 'application/octet-stream', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: /application\/x-protobuf/ },
      { name: 'a missing API key', ...json({ series: [good()] }), key: null, status: 401, code: 'UNAUTHORIZED', reason: /missing API key/ },
      { name: 'a wrong API key', ...json({ series: [good()] }), key: 'not-a-key', status: 401, code: 'UNAUTHORIZED', reason: /unknown API key/ },
      { name: 'the admin key (it has no tenant)', ...json({ series: [good()] }), key: KEYS.admin, status: 403, code: 'FORBIDDEN', reason: /no tenant/ },
    ];

    let before: Array<[number, number]>;
    it('(baseline: samples accepted earlier are readable)', async () => {
      before = await api.samples('checkout', 'latency_ms');
      assert.ok(before.length >= 2);
    });

    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.code}`, async () => {
        const client = c.key === null ? api.withKey(undefined) : c.key ? api.withKey(c.key) : api;
        const r: Reply<ErrorReply> = await client.request('POST', '/v1/metrics', c.body, { 'content-type': c.type ?? 'application/json' });
        assert.equal(r.status, c.status, JSON.stringify(r.body));
        assert.equal(r.body.error.code, c.code);
        assert.match(r.body.error.message, c.reason);
        assert.ok(r.headers.get('x-request-id'), 'every reply carries a request id');
        // The node keeps serving, and nothing accepted before is lost or changed.
        assert.equal((await api.get('/healthz')).status, 200);
        assert.deepEqual(await api.samples('checkout', 'latency_ms'), before);
      });
    }
  });

  it('refuses a request whole: a good series next to a bad one is not stored', async () => {
    const r = await api.postMetrics([
      { service: 'whole', metric: 'good', samples: [[t0, 1]] },
      { service: 'whole', metric: 'bad', samples: [[t0, 1], [t0 + 1000, 2], [Date.now() + DAY, 3]] },
    ]);
    assert.equal(r.status, 400);
    assert.match(r.body.error!.message, /^series\[1\]\.samples\[2\]: timestamp/);
    // A later good request for another metric shows the pipeline has moved past it.
    assert.equal((await api.postMetrics([{ service: 'whole', metric: 'marker', samples: [[t0, 1]] }])).status, 202);
    await eventually(async () => ((await api.samples('whole', 'marker')).length === 1 ? true : undefined), 'marker sample');
    assert.deepEqual(await api.samples('whole', 'good'), []);
  });

  it('accepts a body just under the limit', async () => {
    const samples: Array<[number, number]> = [];
    for (let i = 0; i < (SMALL_BODY_LIMIT - 2000) / 22; i++) samples.push([t0 + i, i]);
    const size = JSON.stringify({ series: [{ service: 'limits', metric: 'fill', samples }] }).length;
    assert.ok(size > SMALL_BODY_LIMIT * 0.9 && size < SMALL_BODY_LIMIT, `body of ${size} bytes`);
    const r = await api.postMetrics([{ service: 'limits', metric: 'fill', samples }]);
    assert.equal(r.status, 202);
    assert.equal(r.body.accepted, samples.length);
  });
});

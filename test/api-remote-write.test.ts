// Prometheus remote write in: the pure decode and mapping (hand-built WriteRequests
// encoded with the generated code and snappyjs), then POST /api/v1/write on a real node:
// accepted samples are readable from /v1/series, and every bad request gets its status
// and the error shape.
import assert from 'node:assert/strict';
import { compress } from 'snappyjs';
import pino from 'pino';
import { startNode, type NodeHandle } from '../node/index.ts';
import { VigilError } from '../protocols/index.ts';
import {
  DEFAULT_REMOTE_WRITE_MAPPING, readRemoteWrite, RecentSeries, remoteWire, toSeriesInputs,
  type KnownSeries, type RemoteWriteMapping,
} from '../protocols/remote-write.ts';
import { snappyLength, unsnappy } from '../protocols/snappy.ts';
import { SAMPLES_WRITTEN_HEADER } from '../api/remote-write.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { KEYS, SMALL_BODY_LIMIT, startTestNode, testConfig } from './support/api-node.ts';
import { thresholdDetectors } from './support/api-detector.ts';

type Pairs = Record<string, string>;
interface Entry { labels: Pairs; samples: Array<[number, number]> }

/** Labels sorted by name, as the spec makes senders send them. */
function writeRequest(entries: Entry[]): Uint8Array {
  return remoteWire.WriteRequest.encode({
    timeseries: entries.map((e) => ({
      labels: Object.keys(e.labels).sort().map((name) => ({ name, value: e.labels[name]! })),
      samples: e.samples.map(([timestamp, value]) => ({ timestamp, value })),
    })),
  }).finish();
}

const snappy = (bytes: Uint8Array) => compress(Buffer.from(bytes));
const mapping = (patch: Partial<RemoteWriteMapping> = {}): RemoteWriteMapping => ({ ...DEFAULT_REMOTE_WRITE_MAPPING, ...patch });
const decoded = writeRequest;
const STALE_NAN = new DataView(new Uint8Array([0x7f, 0xf0, 0, 0, 0, 0, 0, 0x02]).buffer).getFloat64(0); // Prometheus' staleness marker

function refusal(code: string, reason: RegExp): (err: unknown) => boolean {
  return (err) => VigilError.is(err) && err.code === code && reason.test(err.message);
}

describe('remote write: decode and mapping (pure)', () => {
  const t = 1_700_000_000_000;

  it('reads the snappy length header and refuses a bomb before decompressing', () => {
    const body = snappy(new Uint8Array(300));
    assert.equal(snappyLength(body), 300);
    assert.equal(unsnappy(body, 300).length, 300);
    assert.throws(() => unsnappy(body, 299), refusal('PAYLOAD_TOO_LARGE', /decompresses to 300 bytes, over the limit of 299/));
    // 5 bytes that claim 34 GB: refused from the header alone
    const bomb = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert.equal(snappyLength(bomb), 2 ** 35 - 1);
    assert.throws(() => unsnappy(bomb, 1 << 20), refusal('PAYLOAD_TOO_LARGE', /over the limit/));
    assert.throws(() => unsnappy(new Uint8Array([0x80, 0x80]), 100), refusal('BAD_REQUEST', /no valid length header/));
    assert.throws(() => unsnappy(new Uint8Array([10, 0xff, 0xff]), 100), refusal('BAD_REQUEST', /not valid snappy/));
  });

  it('refuses bytes that are not a WriteRequest, naming the place', () => {
    const bad = (bytes: number[], why: RegExp) => assert.throws(() => toSeriesInputs(new Uint8Array(bytes), mapping(), new Map()), refusal('BAD_REQUEST', why));
    bad([0x0a, 0xff, 0xff, 0xff, 0x0f], /not a valid prometheus.WriteRequest: a length runs past the end \(byte 5\)/);
    bad([0x0a, 0x02, 0x12, 0x05], /a length runs past the end/);
    bad([0x0a, 0x01, 0x80], /truncated varint/);
    bad([0x0b], /unsupported wire type 3/);
  });

  it('reads what the generated encoder writes, negative and large timestamps included, and skips unknown fields', () => {
    const l = { __name__: 'm', job: 's' };
    const b = toSeriesInputs(writeRequest([{ labels: l, samples: [[-5000, 1], [0, 2], [2 ** 50 + 3, 3]] }]), mapping(), new Map());
    assert.deepEqual(b.series[0]!.samples, [[-5000, 1], [0, 2], [2 ** 50 + 3, 3]]);
    // metadata (WriteRequest field 3) is skipped; so is an exemplar (TimeSeries field 3)
    // even between two labels, and the series is still the same one
    const field = (n: number, bytes: Uint8Array) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
    const series = Buffer.concat([
      field(1, remoteWire.Label.encode({ name: '__name__', value: 'm' }).finish()),
      field(3, new Uint8Array(0)),
      field(1, remoteWire.Label.encode({ name: 'job', value: 's' }).finish()),
      field(2, remoteWire.Sample.encode({ value: 5, timestamp: 20 }).finish()),
    ]);
    const memory = new Map<string, KnownSeries>();
    const withExtras = Buffer.concat([Buffer.from([0x1a, 0x03, 0x08, 0x01, 0x00]), writeRequest([{ labels: l, samples: [[10, 4]] }]), field(1, series)]);
    const got = toSeriesInputs(withExtras, mapping(), memory);
    assert.deepEqual(got.series, [{ service: 's', metric: 'm', labels: {}, samples: [[10, 4], [20, 5]] }]);
    assert.equal(memory.size, 1); // the label bytes, other fields left out, are the key either way
  });

  it('maps job to service and __name__ to metric; the other labels stay', () => {
    const b = toSeriesInputs(decoded([
      { labels: { __name__: 'http_requests', job: 'checkout', instance: 'a:9100', code: '200' }, samples: [[t, 5]] },
    ]), mapping(), new Map());
    assert.deepEqual(b.series, [{ service: 'checkout', metric: 'http_requests', labels: { code: '200', instance: 'a:9100' }, samples: [[t, 5]] }]);
    assert.equal(b.samples, 1);
  });

  it('prefers a service label to job (job then stays a label); the labels are configurable', () => {
    const e: Entry = { labels: { __name__: 'up', job: 'kubernetes-pods', service: 'cart', instance: 'p1' }, samples: [[t, 1]] };
    assert.deepEqual(toSeriesInputs(decoded([e]), mapping(), new Map()).series[0], {
      service: 'cart', metric: 'up', labels: { instance: 'p1', job: 'kubernetes-pods' }, samples: [[t, 1]],
    });
    const custom = mapping({ serviceLabels: ['job'], dropLabels: ['instance', 'service'] });
    assert.deepEqual(toSeriesInputs(decoded([e]), custom, new Map()).series[0], {
      service: 'kubernetes-pods', metric: 'up', labels: {}, samples: [[t, 1]],
    });
  });

  it('fits names to Vigil rules, leaves out empty labels, and counts series it cannot map', () => {
    const b = toSeriesInputs(decoded([
      { labels: { __name__: ':recorded:rate5m', job: 'node exporter', zone: '' }, samples: [[t, 1]] },
      { labels: { __name__: 'orphan' }, samples: [[t, 1], [t + 1, 2]] }, // no job
      { labels: { job: 'x' }, samples: [[t, 1]] }, // no metric name
      { labels: { __name__: 'm', job: 'x', path: 'p'.repeat(257) }, samples: [[t, 1]] }, // value over 256
    ]), mapping(), new Map());
    assert.deepEqual(b.series, [{ service: 'node_exporter', metric: '_:recorded:rate5m', labels: {}, samples: [[t, 1]] }]);
    assert.equal(b.dropped.unmapped, 4);
  });

  it('gathers the one-sample TimeSeries Prometheus sends into one series per label set, in order', () => {
    const l = { __name__: 'm', job: 'svc' };
    const b = toSeriesInputs(decoded([
      { labels: l, samples: [[t, 1]] },
      { labels: { ...l, instance: 'b' }, samples: [[t, 9]] },
      { labels: l, samples: [[t + 1000, 2]] },
      { labels: l, samples: [[t + 2000, 3]] },
    ]), mapping(), new Map());
    assert.equal(b.series.length, 2);
    assert.deepEqual(b.series[0]!.samples, [[t, 1], [t + 1000, 2], [t + 2000, 3]]);
    assert.deepEqual(b.series[1]!.samples, [[t, 9]]);
    assert.equal(b.samples, 4);
  });

  it('drops NaN (staleness markers included) and infinities, and counts them', () => {
    const b = toSeriesInputs(decoded([
      { labels: { __name__: 'm', job: 's' }, samples: [[t, 1], [t + 1, STALE_NAN], [t + 2, Infinity], [t + 3, -Infinity], [t + 4, NaN], [t + 5, 2]] },
    ]), mapping(), new Map());
    assert.ok(Number.isNaN(STALE_NAN));
    assert.deepEqual(b.series[0]!.samples, [[t, 1], [t + 5, 2]]);
    assert.equal(b.dropped.nonFinite, 4);
  });

  describe('order, as Prometheus\' receiver', () => {
    const l = { __name__: 'm', job: 's' };

    it('ignores a duplicate (same timestamp, same value) and counts it', () => {
      const b = toSeriesInputs(decoded([{ labels: l, samples: [[t, 1], [t, 1], [t + 1, 2]] }]), mapping(), new Map());
      assert.deepEqual(b.series[0]!.samples, [[t, 1], [t + 1, 2]]);
      assert.equal(b.dropped.duplicate, 1);
    });

    it('reject mode: an older sample, or a second value at a timestamp, refuses the request', () => {
      assert.throws(() => toSeriesInputs(decoded([{ labels: l, samples: [[t + 1, 1]] }, { labels: l, samples: [[t, 2]] }]), mapping(), new Map()),
        refusal('BAD_REQUEST', /^timeseries\[1\] \(service s, m\): out of order: timestamp \d+ is older than \d+$/));
      assert.throws(() => toSeriesInputs(decoded([{ labels: l, samples: [[t, 1], [t, 2]] }]), mapping(), new Map()),
        refusal('BAD_REQUEST', /a second value at timestamp \d+ \(2, first 1\)/));
    });

    it('drop mode: drops and counts those samples and keeps the rest', () => {
      const b = toSeriesInputs(decoded([{ labels: l, samples: [[t + 1, 1], [t, 2], [t + 1, 3], [t + 2, 4]] }]), mapping({ outOfOrder: 'drop' }), new Map());
      assert.deepEqual(b.series[0]!.samples, [[t + 1, 1], [t + 2, 4]]);
      assert.equal(b.dropped.outOfOrder, 2);
    });

    it('remembers the last accepted sample across requests once committed', () => {
      const memory = new Map<string, KnownSeries>();
      const body = snappy(writeRequest([{ labels: l, samples: [[t, 1], [t + 1, 2]] }]));
      const first = readRemoteWrite(body, 1 << 20, mapping(), memory);
      // not committed (the engine refused it): a retry is taken whole
      const retry = readRemoteWrite(body, 1 << 20, mapping(), memory);
      assert.equal(retry.samples, 2);
      retry.commit();
      assert.equal(first.samples, 2);
      // committed: the sender's retry after a lost answer is a duplicate of the last sample,
      // and the sample before it is out of order (Prometheus' receiver answers 400 too)
      assert.throws(() => readRemoteWrite(body, 1 << 20, mapping(), memory), refusal('BAD_REQUEST', /out of order/));
      const dup = readRemoteWrite(snappy(writeRequest([{ labels: l, samples: [[t + 1, 2], [t + 2, 3]] }])), 1 << 20, mapping(), memory);
      assert.deepEqual(dup.series[0]!.samples, [[t + 2, 3]]);
      assert.equal(dup.dropped.duplicate, 1);
      const drop = readRemoteWrite(body, 1 << 20, mapping({ outOfOrder: 'drop' }), memory);
      assert.equal(drop.samples, 0);
      assert.deepEqual({ ...drop.dropped }, { nonFinite: 0, duplicate: 1, outOfOrder: 1, unmapped: 0 });
    });
  });
});

describe('remote write: RecentSeries (the per-tenant memory)', () => {
  const known = (n: number): KnownSeries => ({ target: undefined, lastTs: n, lastValue: n });

  it('keeps about max label sets: recent and re-used ones stay, the rest is forgotten', () => {
    const m = new RecentSeries(4);
    for (let i = 0; i < 4; i++) m.set(`k${i}`, known(i));
    assert.equal(m.get('k0')?.lastTs, 0); // old generation, moved back to the young one
    m.set('k4', known(4));
    m.set('k5', known(5)); // young full again: k1..k3 are dropped
    for (const k of ['k0', 'k4', 'k5']) assert.ok(m.get(k), `${k} kept`);
    for (const k of ['k1', 'k2', 'k3']) assert.equal(m.get(k), undefined, `${k} forgotten`);
    assert.ok(m.size <= 4);
  });
});

describe('api: POST /api/v1/write', () => {
  let node: NodeHandle;
  let api: ApiClient;
  const MIN = 60_000;
  const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
  const post = (body: Uint8Array, key: string | undefined = KEYS.acme, extra: Record<string, string> = {}) =>
    api.withKey(key).request<ErrorReply | string>('POST', '/api/v1/write', body, { ...headers, ...extra });

  before(async () => {
    node = await startTestNode(); // body limit SMALL_BODY_LIMIT (64 KB)
    api = new ApiClient(node.url, KEYS.acme);
  });
  after(async () => node.stop());

  it('answers 204 and the samples appear in GET /v1/series of the key\'s tenant only', async () => {
    const t0 = Date.now() - 5 * MIN;
    const r = await post(snappy(writeRequest([
      { labels: { __name__: 'node_load1', job: 'db', instance: 'db-1:9100' }, samples: [[t0, 0.5]] },
      { labels: { __name__: 'node_load1', job: 'db', instance: 'db-1:9100' }, samples: [[t0 + 15_000, 0.75]] },
      { labels: { __name__: 'node_load1', job: 'db', instance: 'db-2:9100' }, samples: [[t0, 2]] },
      { labels: { __name__: 'node_load1', job: 'db', instance: 'db-1:9100' }, samples: [[t0 + 30_000, STALE_NAN]] },
    ])));
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(r.headers.get(SAMPLES_WRITTEN_HEADER), '3');
    const samples = await eventually(async () => {
      const s = await api.samples('db', 'node_load1');
      return s.length === 3 ? s : undefined;
    }, 'remote-written samples');
    assert.deepEqual([...samples].sort((a, b) => a[0] - b[0] || a[1] - b[1]), [[t0, 0.5], [t0, 2], [t0 + 15_000, 0.75]]);
    assert.deepEqual(await api.withKey(KEYS.globex).samples('db', 'node_load1'), []);
    const metrics = await api.withKey(KEYS.admin).get<string>('/metrics');
    assert.match(metrics.body, /^vigil_remote_write_samples_total 3$/m);
    assert.match(metrics.body, /^vigil_remote_write_dropped_samples_total\{reason="non_finite"\} 1$/m);
    assert.match(metrics.body, /^vigil_tenant_remote_write_dropped_samples_total\{tenant="acme",reason="non_finite"\} 1$/m);
  });

  it('answers 204 to a request with no samples (Prometheus sends metadata-only requests)', async () => {
    const r = await post(snappy(writeRequest([])));
    assert.equal(r.status, 204);
    assert.equal(r.headers.get(SAMPLES_WRITTEN_HEADER), '0');
  });

  it('refuses an out-of-order sample with 400 and stores nothing of that request', async () => {
    const t0 = Date.now() - 5 * MIN;
    const l = { __name__: 'queue_depth', job: 'worker' };
    assert.equal((await post(snappy(writeRequest([{ labels: l, samples: [[t0 + 1000, 1]] }])))).status, 204);
    const r = await post(snappy(writeRequest([
      { labels: { ...l, instance: 'other' }, samples: [[t0, 7]] },
      { labels: l, samples: [[t0, 2]] },
    ])));
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.body as ErrorReply), ['error']);
    assert.equal((r.body as ErrorReply).error.code, 'BAD_REQUEST');
    assert.match((r.body as ErrorReply).error.message, /out of order: timestamp \d+ is older than \d+/);
    // a later request goes through; the refused one left nothing
    assert.equal((await post(snappy(writeRequest([{ labels: l, samples: [[t0 + 2000, 3]] }])))).status, 204);
    const samples = await eventually(async () => {
      const s = await api.samples('worker', 'queue_depth');
      return s.length === 2 ? s : undefined;
    }, 'in-order samples');
    assert.deepEqual(samples, [[t0 + 1000, 1], [t0 + 2000, 3]]);
  });

  describe('refuses bad requests with a status Prometheus acts on and the error shape', () => {
    const good = () => snappy(writeRequest([{ labels: { __name__: 'm', job: 'refused' }, samples: [[Date.now() - MIN, 1]] }]));
    const cases: Array<{ name: string; body: () => Uint8Array; key?: string | null; headers?: Record<string, string>; status: number; code: string; reason: RegExp }> = [
      { name: 'wrong key', body: good, key: 'not-a-key', status: 401, code: 'UNAUTHORIZED', reason: /unknown API key/ },
      { name: 'no key', body: good, key: null, status: 401, code: 'UNAUTHORIZED', reason: /missing API key/ },
      { name: 'admin key (no tenant)', body: good, key: KEYS.admin, status: 403, code: 'FORBIDDEN', reason: /tenant key/ },
      { name: 'garbage body', body: () => Buffer.from('this is not snappy at all'), status: 400, code: 'BAD_REQUEST', reason: /not valid snappy/ },
      { name: 'snappy but not protobuf', body: () => snappy(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])), status: 400, code: 'BAD_REQUEST', reason: /not a valid prometheus.WriteRequest/ },
      { name: 'empty body', body: () => new Uint8Array(0), status: 400, code: 'BAD_REQUEST', reason: /not a snappy block/ },
      { name: 'snappy bomb: a header that claims 4 GB', body: () => new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x10, 0x00]), status: 413, code: 'PAYLOAD_TOO_LARGE', reason: /decompresses to 4294967296 bytes, over the limit of 65536/ },
      { name: 'snappy bomb: 48 KB that inflate to 1 MB', body: () => snappy(new Uint8Array(1 << 20)), status: 413, code: 'PAYLOAD_TOO_LARGE', reason: /decompresses to 1048576 bytes/ },
      { name: 'body over the limit', body: () => new Uint8Array(SMALL_BODY_LIMIT + 1), status: 413, code: 'PAYLOAD_TOO_LARGE', reason: /./ },
      { name: 'gzip encoding', body: good, headers: { 'content-encoding': 'gzip' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: /Content-Encoding gzip/ },
      { name: 'remote-write 2.0 message', body: good, headers: { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: /remote-write 1.0/ },
      { name: 'JSON', body: () => Buffer.from('{}'), headers: { 'content-type': 'application/json' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: /application\/json is not accepted/ },
      { name: 'a sample older than the window', body: () => snappy(writeRequest([{ labels: { __name__: 'm', job: 'refused' }, samples: [[Date.now() - 8 * 24 * 60 * MIN, 1]] }])), status: 400, code: 'BAD_REQUEST', reason: /series\[0\]\.samples\[0\]: timestamp \d+ is too old/ },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.code}`, async () => {
        const client = c.key === null ? api.withKey(undefined) : api.withKey(c.key ?? KEYS.acme);
        const r = await client.request<ErrorReply>('POST', '/api/v1/write', c.body(), { ...headers, ...c.headers });
        assert.equal(r.status, c.status, JSON.stringify(r.body));
        const body = r.body as ErrorReply;
        assert.deepEqual(Object.keys(body), ['error']);
        assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
        assert.equal(body.error.code, c.code);
        assert.match(body.error.message, c.reason);
      });
    }

    it('stored nothing from any refused request, and the node still serves', async () => {
      assert.deepEqual(await api.samples('refused', 'm'), []);
      assert.equal((await api.get('/healthz')).status, 200);
      assert.equal((await post(good())).status, 204);
    });
  });
});

describe('api: POST /api/v1/write with a configured mapping (remoteWrite section)', () => {
  let node: NodeHandle;
  let api: ApiClient;
  const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };

  before(async () => {
    const config = testConfig();
    config.remoteWrite = { ...config.remoteWrite, serviceLabels: ['app'], dropLabels: ['instance'], outOfOrder: 'drop' };
    node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    api = new ApiClient(node.url, KEYS.acme);
  });
  after(async () => node.stop());

  it('takes the service from `app` only, drops `instance`, and drops (not refuses) an out-of-order sample', async () => {
    const t0 = Date.now() - 5 * 60_000;
    const r = await api.request<ErrorReply | string>('POST', '/api/v1/write', snappy(writeRequest([
      { labels: { __name__: 'cpu', app: 'cart', job: 'kube', instance: 'p1' }, samples: [[t0, 1], [t0 + 10_000, 2]] },
      // without instance, p2 is p1's series: its older sample is out of order (dropped in this mode)
      { labels: { __name__: 'cpu', app: 'cart', job: 'kube', instance: 'p2' }, samples: [[t0 + 5_000, 7]] },
      // no `app` label: unmapped here, though the default mapping takes job
      { labels: { __name__: 'cpu', job: 'billing' }, samples: [[t0, 3]] },
    ])), headers);
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.equal(r.headers.get(SAMPLES_WRITTEN_HEADER), '2');
    const samples = await eventually(async () => {
      const s = await api.samples('cart', 'cpu');
      return s.length === 2 ? s : undefined;
    }, 'samples of service cart');
    assert.deepEqual(samples, [[t0, 1], [t0 + 10_000, 2]]);
    assert.deepEqual(await api.samples('kube', 'cpu'), [], 'job does not name the service under this mapping');
    assert.deepEqual(await api.samples('billing', 'cpu'), []);
    const metrics = await api.withKey(KEYS.admin).get<string>('/metrics');
    assert.match(metrics.body, /^vigil_remote_write_dropped_samples_total\{reason="out_of_order"\} 1$/m);
    assert.match(metrics.body, /^vigil_remote_write_dropped_samples_total\{reason="unmapped"\} 1$/m);
  });
});

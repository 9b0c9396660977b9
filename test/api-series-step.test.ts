// GET /v1/series with `step` on a real in-process node (chdb store): three hours of 10 s
// samples over two label sets, read back as 30 s buckets (raw table), 1-minute and 1-hour
// buckets (the rollups); counts, averages, minima and maxima checked against what was
// posted. Without a step the answer keeps its raw shape; a bad step is a 400.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import type { SeriesInput } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { KEYS, startTestNode } from './support/api-node.ts';

interface Bucket { t: number; count: number; avg: number; min: number; max: number; p50: number; p95: number; p99: number }
interface Stepped { samples: Array<[number, number]>; resolution: string; step: number; buckets: Bucket[] }

const MIN = 60_000;
const HOUR = 60 * MIN;
const EVERY = 10_000;

/** Buckets of `step` over the posted samples, as the store should compute them. */
function expectedBuckets(series: SeriesInput[], step: number, from = -Infinity): Array<Pick<Bucket, 't' | 'count' | 'avg' | 'min' | 'max'>> {
  const by = new Map<number, number[]>();
  for (const s of series) {
    for (const [t, v] of s.samples) {
      if (t < from) continue;
      const b = Math.floor(t / step) * step;
      let values = by.get(b);
      if (!values) by.set(b, (values = []));
      values.push(v);
    }
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([t, vs]) => ({
    t, count: vs.length, avg: vs.reduce((a, v) => a + v, 0) / vs.length, min: Math.min(...vs), max: Math.max(...vs),
  }));
}

function assertBuckets(got: Bucket[], want: ReturnType<typeof expectedBuckets>): void {
  assert.equal(got.length, want.length, 'bucket count');
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    assert.equal(g.t, w.t, `bucket ${i} start`);
    assert.equal(g.count, w.count, `bucket ${i} count`);
    assert.ok(Math.abs(g.avg - w.avg) < 1e-9, `bucket ${i} avg ${g.avg}, posted ${w.avg}`);
    assert.equal(g.min, w.min, `bucket ${i} min`);
    assert.equal(g.max, w.max, `bucket ${i} max`);
    // quantiles are t-digest estimates: within the bucket and in order
    assert.ok(g.min <= g.p50 && g.p50 <= g.p95 && g.p95 <= g.p99 && g.p99 <= g.max, `bucket ${i} quantiles ${JSON.stringify(g)}`);
  }
}

describe('api: GET /v1/series with step (raw table and rollups)', () => {
  let node: NodeHandle;
  let api: ApiClient;
  // three whole hours, ending at least an hour ago (inside the 7-day ingest window)
  const T0 = Math.floor((Date.now() - 4 * HOUR) / HOUR) * HOUR;
  const series: SeriesInput[] = ['eu', 'us'].map((region, r) => ({
    service: 'checkout', metric: 'latency_ms', labels: { region },
    samples: Array.from({ length: (3 * HOUR) / EVERY }, (_, i): [number, number] => [T0 + i * EVERY, ((i * 7 + r * 13) % 41) + (i % 5) / 4]),
  }));
  const total = series.reduce((n, s) => n + s.samples.length, 0);
  const query = (params: string) => api.get<Stepped & ErrorReply>(`/v1/series?service=checkout&metric=latency_ms&${params}`);

  before(async () => {
    node = await startTestNode({ bodyLimitBytes: 1 << 20 });
    api = new ApiClient(node.url, KEYS.acme);
    const r = await api.postMetrics(series);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.accepted, total);
    await eventually(async () => ((await api.samples('checkout', 'latency_ms')).length === total ? true : undefined), `${total} stored samples`, 15_000);
  });
  after(async () => node.stop());

  it('keeps the raw shape without a step', async () => {
    const r = await query(`from=${T0}&to=${T0 + MIN - 1}`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['samples']);
    assert.equal(r.body.samples.length, 12); // 6 per label set in the first minute
  });

  it('step=60000: one bucket a minute from the 1-minute rollup, counts and averages as posted', async () => {
    const r = await query('step=60000');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ['buckets', 'resolution', 'samples', 'step']);
    assert.equal(r.body.resolution, '1m');
    assert.equal(r.body.step, 60_000);
    const want = expectedBuckets(series, MIN);
    assert.equal(want.length, 180);
    assert.ok(want.every((b) => b.count === 12));
    assertBuckets(r.body.buckets, want);
    assert.deepEqual(r.body.samples, r.body.buckets.map((b) => [b.t, b.avg]), 'samples are the bucket averages');
  });

  it('step=3600000: one bucket an hour from the 1-hour rollup', async () => {
    const r = await query('step=3600000');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.resolution, '1h');
    assert.equal(r.body.step, HOUR);
    const want = expectedBuckets(series, HOUR);
    assert.deepEqual(want.map((b) => b.count), [720, 720, 720]);
    assertBuckets(r.body.buckets, want);
  });

  it('a step under a minute reads the raw table; from and limit narrow the buckets', async () => {
    const raw = await query('step=30000');
    assert.equal(raw.status, 200, JSON.stringify(raw.body));
    assert.equal(raw.body.resolution, 'raw');
    assertBuckets(raw.body.buckets, expectedBuckets(series, 30_000));
    const late = await query(`step=3600000&from=${T0 + HOUR}`);
    assertBuckets(late.body.buckets, expectedBuckets(series, HOUR, T0 + HOUR));
    const newest = await query('step=60000&limit=5');
    assertBuckets(newest.body.buckets, expectedBuckets(series, MIN).slice(-5));
  });

  it('steps that are multiples of a rollup merge its buckets: 30 min from the 1-minute, 2 h from the 1-hour', async () => {
    for (const [step, resolution] of [[30 * MIN, '1m'], [2 * HOUR, '1h']] as const) {
      const r = await query(`step=${step}`);
      assert.equal(r.body.resolution, resolution);
      const want = expectedBuckets(series, step);
      assert.equal(want.reduce((n, b) => n + b.count, 0), total);
      assertBuckets(r.body.buckets, want);
    }
  });

  it('shows another tenant no buckets', async () => {
    const r = await api.withKey(KEYS.globex).get<Stepped>('/v1/series?service=checkout&metric=latency_ms&step=60000');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.buckets, []);
    assert.deepEqual(r.body.samples, []);
  });

  const outOfRange = /^querystring\.step: must be a bucket width in ms between 1 and 31536000000$/;
  const notDigits = /^querystring\.step: must match pattern/;
  for (const [step, why] of [['0', outOfRange], ['999999999999', outOfRange], ['abc', notDigits], ['1.5', notDigits], ['-60000', notDigits], ['', notDigits]] as const) {
    it(`refuses step=${JSON.stringify(step)} with 400 and the error shape`, async () => {
      const r = await query(`step=${step}`);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body), ['error']);
      assert.equal(r.body.error.code, 'BAD_REQUEST');
      assert.match(r.body.error.message, why);
    });
  }
});

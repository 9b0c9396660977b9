// The RCA core on small hand-built graphs whose answer is known by construction, at each
// degradation level; and its input checks.
import { strict as assert } from 'node:assert';
import { rankRootCauses, squash, type RcaInput, type SeriesAnomaly } from '../actors/rca/index.ts';
import { VigilError, type Topology } from '../protocols/index.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** A latency series that departs by `excess` ms (deviation `z`) from `onset` on, over a 10-minute window. */
function series(service: string, z: number, excess: number, onset: number | undefined, metric = 'latency_ms'): SeriesAnomaly {
  const samples: Array<[number, number]> = [];
  for (let t = T0; t <= T0 + 10 * MIN; t += MIN) samples.push([t, onset !== undefined && t >= onset ? excess : 0]);
  return {
    service, metric, score: squash(z), deviation: z, direction: 'up', peakAt: onset ?? T0 + 10 * MIN, excess: samples,
    ...(onset !== undefined && squash(z) >= 0.5 ? { onset } : {}),
  };
}

function topo(edges: Record<string, string[]>): Topology {
  return { services: Object.entries(edges).map(([name, dependsOn]) => ({ name, dependsOn })) };
}

const ranked = (input: RcaInput, level: 'L0' | 'L1' | 'L2' = 'L0'): string[] => rankRootCauses(input, { level }).causes.map((c) => c.service);

describe('rca: ranking root causes on hand-built graphs', () => {
  // frontend -> api -> db; db slowed first, and its excess is all of api's and frontend's.
  const chain = topo({ frontend: ['api', 'cache'], api: ['db'], cache: [], db: [] });
  const chainAnomalies = [
    series('frontend', 30, 40, T0 + 3 * MIN),
    series('api', 40, 40, T0 + 2 * MIN),
    series('db', 25, 38, T0 + 1 * MIN),
    series('cache', 0.5, 0.1, undefined),
  ];

  it('L0 puts the end of an anomalous chain first, with its evidence', () => {
    const r = rankRootCauses({ topology: chain, alerts: ['frontend'], anomalies: chainAnomalies });
    assert.equal(r.level, 'L0');
    assert.equal(r.candidates, 4);
    assert.deepEqual(r.causes.map((c) => c.service).slice(0, 1), ['db']);
    const db = r.causes[0]!;
    assert.equal(db.rank, 1);
    assert.ok(db.onAnomalousPath);
    assert.deepEqual(db.evidence.map((e) => [e.metric, e.onset]), [['latency_ms', T0 + MIN]]);
    // scores decrease with rank, the quiet cache is last
    for (let i = 1; i < r.causes.length; i++) assert.ok(r.causes[i - 1]!.score >= r.causes[i]!.score);
    assert.equal(r.causes.at(-1)!.service, 'cache');
  });

  it('L0 keeps a service first when its dependency accounts for little of its excess', () => {
    // api got 40 ms slower; db is anomalous but only 4 ms of it: api's own trouble
    const anomalies = [series('frontend', 30, 40, T0 + 3 * MIN), series('api', 40, 40, T0 + 2 * MIN), series('db', 25, 4, T0 + 2 * MIN)];
    assert.equal(ranked({ topology: chain, alerts: ['frontend'], anomalies })[0], 'api');
  });

  it('L0: a dependency that went wrong after its caller does not explain it', () => {
    const anomalies = [series('frontend', 30, 40, T0 + 3 * MIN), series('api', 40, 40, T0 + 1 * MIN), series('db', 40, 40, T0 + 5 * MIN)];
    assert.equal(ranked({ topology: chain, alerts: ['frontend'], anomalies })[0], 'api');
  });

  it('L0 ranks a noisy service behind a quiet one below the anomalous path', () => {
    // frontend -> jobs (quiet) -> batch (very anomalous, unrelated); frontend -> search (anomalous)
    const g = topo({ frontend: ['jobs', 'search'], jobs: ['batch'], search: [], batch: [] });
    const anomalies = [
      series('frontend', 20, 30, T0 + 2 * MIN), series('search', 15, 29, T0 + 2 * MIN),
      series('jobs', 0.3, 0.1, undefined), series('batch', 80, 500, T0 + 2 * MIN),
    ];
    const r = rankRootCauses({ topology: g, alerts: ['frontend'], anomalies });
    assert.equal(r.causes[0]!.service, 'search');
    const batch = r.causes.find((c) => c.service === 'batch')!;
    assert.equal(batch.onAnomalousPath, false);
    assert.ok(r.causes.filter((c) => c.onAnomalousPath).every((c) => c.rank < batch.rank));
  });

  it('L0 prefers the shared dependency whose other callers suffer too', () => {
    // web calls lb (a leaf) and search; search is also called by mobile, which is anomalous too.
    const g = topo({ web: ['lb', 'search'], mobile: ['search'], lb: [], search: [] });
    const anomalies = [
      series('web', 20, 30, T0 + 2 * MIN), series('lb', 20, 30, T0 + 2 * MIN), series('search', 20, 30, T0 + 2 * MIN),
      series('mobile', 20, 30, T0 + 2 * MIN),
    ];
    assert.equal(ranked({ topology: g, alerts: ['web'], anomalies })[0], 'search');
  });

  it('copes with calls in a cycle', () => {
    // web -> a -> b -> a (a retry loop), b -> store; store slowed first
    const g = topo({ web: ['a'], a: ['b'], b: ['a', 'store'], store: [] });
    const anomalies = [
      series('web', 30, 50, T0 + 3 * MIN), series('a', 30, 50, T0 + 2 * MIN), series('b', 30, 49, T0 + 2 * MIN), series('store', 30, 48, T0 + MIN),
    ];
    for (const level of ['L0', 'L2'] as const) assert.equal(ranked({ topology: g, alerts: ['web'], anomalies }, level)[0], 'store', level);
  });

  it('ranks only what the alerts depend on, and an alert outside the topology alone', () => {
    const r = rankRootCauses({ topology: chain, alerts: ['api'], anomalies: chainAnomalies });
    assert.deepEqual(new Set(r.causes.map((c) => c.service)), new Set(['api', 'db']));
    const lone = rankRootCauses({ topology: chain, alerts: ['billing'], anomalies: [series('billing', 9, 5, T0)] });
    assert.deepEqual(lone.causes.map((c) => c.service), ['billing']);
  });

  it('does not depend on the order of its input', () => {
    const a = ranked({ topology: chain, alerts: ['frontend'], anomalies: chainAnomalies });
    const b = ranked({ topology: { services: [...chain.services].reverse() }, alerts: ['frontend'], anomalies: [...chainAnomalies].reverse() });
    assert.deepEqual(a, b);
  });

  it('L1 ranks by anomaly times correlation with the symptom', () => {
    // both dependencies anomalous; only db moves with the frontend's latency
    const g = topo({ frontend: ['db', 'queue'], db: [], queue: [] });
    const w = (f: (i: number) => number): Array<[number, number]> => Array.from({ length: 10 }, (_, i) => [T0 + i * MIN, f(i)]);
    const input: RcaInput = {
      topology: g, alerts: ['frontend'],
      anomalies: [series('frontend', 20, 30, T0 + 5 * MIN), series('db', 12, 30, T0 + 5 * MIN), series('queue', 12, 30, T0 + 5 * MIN)],
      windows: [
        { service: 'frontend', metric: 'latency_ms', samples: w((i) => (i >= 5 ? 50 + i : 20 + (i % 2))) },
        { service: 'db', metric: 'latency_ms', samples: w((i) => (i >= 5 ? 40 + i : 10 - (i % 2))) },
        { service: 'queue', metric: 'latency_ms', samples: w((i) => (i % 3) * 7) },
      ],
    };
    const r = rankRootCauses(input, { level: 'L1' });
    assert.equal(r.level, 'L1');
    assert.equal(r.causes[0]!.service, 'db');
    const queue = r.causes.find((c) => c.service === 'queue')!;
    assert.ok(queue.score < r.causes[0]!.score / 2);
  });

  it('L2 takes the earliest anomalous dependency, the end of the trail at equal onsets', () => {
    assert.equal(ranked({ topology: chain, alerts: ['frontend'], anomalies: chainAnomalies }, 'L2')[0], 'db');
    const same = chainAnomalies.map((a) => (a.onset !== undefined ? { ...a, onset: T0 } : a));
    assert.equal(ranked({ topology: chain, alerts: ['frontend'], anomalies: same }, 'L2')[0], 'db');
    const apiFirst = chainAnomalies.map((a) => (a.service === 'api' ? { ...a, onset: T0 } : a));
    assert.equal(ranked({ topology: chain, alerts: ['frontend'], anomalies: apiFirst }, 'L2')[0], 'api');
  });

  it('refuses input it cannot rank, with a typed error', () => {
    assert.throws(() => rankRootCauses({ topology: chain, alerts: [], anomalies: [] }), (e: unknown) => VigilError.is(e, 'BAD_REQUEST'));
    assert.throws(
      () => rankRootCauses({ topology: chain, alerts: ['api'], anomalies: [{ ...chainAnomalies[0]!, score: 2 }] }),
      (e: unknown) => VigilError.is(e, 'BAD_REQUEST') && /score of frontend\/latency_ms/.test(e.message),
    );
    assert.throws(
      () => rankRootCauses({ topology: chain, alerts: ['api'], anomalies: chainAnomalies }, { level: 'L9' as 'L0' }),
      (e: unknown) => VigilError.is(e, 'BAD_REQUEST'),
    );
  });
});

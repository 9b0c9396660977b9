// The storm of the acceptance: 10,000 alerts from one fault spreading through 100
// services become at most 5 incidents holding the right alerts (BCubed precision and recall
// against the truth, with unrelated faults beside it), and delivering every alert 3 times
// changes nothing. The pure core, on data time; bench/correlation.ts times it.
import { strict as assert } from 'node:assert';
import { alertmanagerInput, TenantCorrelation, TopologyIndex, type CorrelationEffect } from '../actors/correlation/index.ts';
import { alertStorm, groupingScore, type Storm } from '../sim/alert-storm.ts';
import type { Incident } from '../protocols/index.ts';
import type { Level } from '../supervisors/index.ts';

const SETTINGS = { windowMs: 5 * 60_000, autoResolveMs: 30 * 60_000, minAlertScore: 0.9, criticalScore: 0.99 };

interface Run {
  incidents: Map<string, Incident>;
  /** the incident of each alert of the storm, in storm order */
  found: Array<string | undefined>;
  effects: number;
}

/** Delivers every alert `copies` times (20 s apart, as a Prometheus re-sends), ticking every second. */
function run(storm: Storm, copies: number, level: Level = 0): Run {
  const c = new TenantCorrelation('acme', SETTINGS, [], { topology: new TopologyIndex(storm.topology), level: () => level });
  const deliveries = storm.alerts.flatMap((a, i) => Array.from({ length: copies }, (_, k) => ({ at: a.startsAt + k * 20_000, i })));
  deliveries.sort((x, y) => x.at - y.at || x.i - y.i);
  const incidents = new Map<string, Incident>();
  let effects = 0;
  const take = (out: CorrelationEffect[]): void => {
    for (const e of out) {
      if (e.type === 'incident') incidents.set(e.incident.id, e.incident);
      if (e.type !== 'notify') effects++;
    }
  };
  let nextTick = deliveries[0]!.at;
  for (const d of deliveries) {
    while (nextTick <= d.at) take(c.tick((nextTick += 1_000)));
    const a = storm.alerts[d.i]!;
    take(c.onAlerts([alertmanagerInput({ labels: a.labels, startsAt: a.startsAt, endsAt: a.endsAt }, ['service'], d.at)], d.at).effects);
  }
  take(c.tick(nextTick + 2_000)); // what was held back for incidentUpdateMs goes out
  const views = new Map(c.alertViews(nextTick).map((v) => [v.fingerprint, v.incidentId]));
  const found = storm.alerts.map((a) => views.get(alertmanagerInput({ labels: a.labels }, ['service'], 0).fingerprint));
  return { incidents, found, effects };
}

describe('correlation: an alert storm', function () {
  this.timeout(60_000);
  const storm = alertStorm({ seed: 7 });
  const stormIdx = storm.alerts.flatMap((a, i) => (a.fault === 'storm' ? [i] : []));
  let once: Run;

  before(() => {
    once = run(storm, 1);
  });

  it('the storm is what the issue says: 10,000 alerts of one fault over 100 services, with unrelated faults beside it', () => {
    assert.equal(stormIdx.length, 10_000);
    assert.equal(new Set(stormIdx.map((i) => storm.alerts[i]!.labels.service)).size, 100);
    assert.ok(storm.alerts.length > 10_000, 'noise alerts too');
  });

  it('becomes at most 5 incidents, which hold the storm\'s alerts and nothing else', () => {
    const stormIncidents = new Set(stormIdx.map((i) => once.found[i]));
    assert.ok(!stormIncidents.has(undefined), 'every storm alert is in an incident');
    assert.ok(stormIncidents.size <= 5, `${stormIncidents.size} incidents`);
    const { precision, recall } = groupingScore(storm.alerts.map((a) => a.fault), once.found);
    console.log(`      storm: ${stormIncidents.size} incident(s) for 10,000 alerts; BCubed precision ${precision.toFixed(4)}, recall ${recall.toFixed(4)} over ${storm.alerts.length} alerts`);
    assert.ok(precision >= 0.99, `precision ${precision}`);
    assert.ok(recall >= 0.95, `recall ${recall}`);
    for (const id of stormIncidents) {
      const inc = once.incidents.get(id!)!;
      assert.ok(inc.services.every((s) => storm.reached.includes(s)), `incident ${id} holds a service the fault did not reach`);
    }
  });

  it('delivering every alert 3 times changes nothing: the same incidents, the same alerts in them', () => {
    const thrice = run(storm, 3);
    assert.deepEqual(thrice.found, once.found);
    assert.equal(thrice.incidents.size, once.incidents.size);
    for (const [id, inc] of once.incidents) assert.deepEqual(thrice.incidents.get(id)!.alertIds, inc.alertIds);
    assert.equal(thrice.effects, once.effects, 'not one more alert or incident state');
  });

  it('at L2 (time only) the unrelated faults close in time fall into the storm: topology is what keeps them apart', () => {
    const l2 = run(storm, 1, 2);
    const p0 = groupingScore(storm.alerts.map((a) => a.fault), once.found).precision;
    const p2 = groupingScore(storm.alerts.map((a) => a.fault), l2.found).precision;
    assert.ok(p2 < p0, `L2 precision ${p2} vs L0 ${p0}`);
  });
});

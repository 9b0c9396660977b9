// The pure part of a ServiceActor: per-series detectors over a batch of samples.
// Returns the anomalies found; writes nothing itself. The node's level decides whose verdict
// reports (CAPABILITIES[level].detection): the tier's at L0 (ml) and L1 (statistical: the
// host holds Robust's model off), the rules' at L2 and L3, the static limits' alone at L4
// (rules.ts). Detectors learn every sample at every level: their state is what snapshots
// and replays cover, and a service that comes back to L0 is warm, not blind.
import { seriesName, stableId } from '../../protocols/index.ts';
import type { AnomalyEvent, Labels, SeriesInput, Tier } from '../../protocols/index.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from '../detection/index.ts';
import { CAPABILITIES, type Level } from '../../supervisors/index.ts';
import { RuleWindow, type StaticLimit } from './rules.ts';

export interface DetectorFactory {
  create(tier: Tier, sensitivity?: Sensitivity): Detector;
  restore(snapshot: DetectorSnapshot): Detector;
}

/**
 * `factory`'s detectors with each update going through `update(inner, timestamp, value)`, which
 * calls `inner.update` itself (no closure per sample); the rest passes through. A tenant's time
 * budget measures updates this way; tests slow or poison them.
 */
export function aroundUpdates(factory: DetectorFactory, update: (inner: Detector, timestamp: number, value: number) => number): DetectorFactory {
  const wrap = (d: Detector): Detector => ({
    get tier() { return d.tier; },
    get anomalous() { return d.anomalous; },
    get expected() { return d.expected; },
    get rawScore() { return d.rawScore; },
    update: (timestamp, value) => update(d, timestamp, value),
    snapshot: () => d.snapshot(),
  });
  return { create: (tier, s) => wrap(factory.create(tier, s)), restore: (s) => wrap(factory.restore(s)) };
}

/** How one metric of a tenant is watched. */
export interface MetricDetection {
  tier: Tier;
  sensitivity?: Sensitivity;
  /** a new series only learns for this long (data time) before it may report anomalies */
  warmupMs?: number;
  /** the operator's static line for the metric: judged at L2-L4 (rules.ts) */
  limit?: StaticLimit;
}

export interface SeriesState {
  service: string;
  metric: string;
  labels: Labels;
  detector: Detector;
  /** data time of the series' first sample, and the end of its warm-up */
  since: number;
  quietUntil: number;
  /** ingest-log position of the last batch this series' detector learned (0: none) */
  position: number;
  /** batches at or below this position are in the restored state already (a replay skips them) */
  covered: number;
  /** the last raw values for the rules (not in snapshots: it refills in RULES.window samples) */
  rules: RuleWindow;
  limit: StaticLimit | undefined;
  direction: 'up' | 'down' | 'both';
  /** the detection the series runs under (a new object when the tenant's settings change) */
  how: MetricDetection;
}

/**
 * Packs series' state into bytes where it is taken (a checkpoint's codec, given by the asker):
 * a tenant's thousands of state objects then die in the turn that made them, where held
 * until the whole tenant had answered they were copied by every scavenge meanwhile.
 * `keys[i]`: series i's name (seriesName), where the caller holds it; absent, the packer names it.
 */
export type StatePacker = (series: SeriesSnapshot[], keys?: readonly string[]) => Uint8Array;

export interface SeriesSnapshot {
  service: string;
  metric: string;
  labels: Labels;
  detector: DetectorSnapshot;
  since: number;
  quietUntil: number;
  /** ingest-log position of the last batch the detector state covers (absent: 0) */
  position?: number;
}

export class ServiceDetection {
  readonly series = new Map<string, SeriesState>();

  constructor(
    readonly tenant: string,
    readonly service: string,
    private readonly detectionOf: (metric: string) => MetricDetection,
    private readonly factory: DetectorFactory,
    snapshots: SeriesSnapshot[] = [],
  ) {
    for (const s of snapshots) {
      const how = detectionOf(s.metric);
      // a sensitivity set now overrides what the state was saved with; state saved under
      // another tier is kept as a detection of that tier, so the series' first batch finds
      // the change and starts afresh with its warm-up (reconfigure)
      const saved = how.sensitivity ? { ...s.detector, sensitivity: { ...(s.detector.sensitivity as object | undefined), ...how.sensitivity } } : s.detector;
      this.series.set(seriesName(s.metric, s.labels), {
        ...s, detector: factory.restore(saved), position: s.position ?? 0, covered: s.position ?? 0,
        rules: new RuleWindow(), limit: how.limit, direction: how.sensitivity?.direction ?? 'both',
        how: s.detector.tier === how.tier ? how : { ...how, tier: s.detector.tier },
      });
    }
  }

  /**
   * Runs every sample of `input` through its series' detector, in order. A batch at a log
   * `position` the series' state already covers (a replay after a restore) is skipped, so
   * no detector learns a sample twice. `level`: the node's, read once per batch by the host.
   * `scored`, if given, gets [ts, rawScore, expected] of every sample the detector learned.
   */
  detect(input: SeriesInput, out: AnomalyEvent[], position = 0, level: Level = 0, scored?: Array<[number, number, number]>): void {
    const labels = input.labels ?? {};
    const id = seriesName(input.metric, labels);
    let st = this.series.get(id);
    if (!st) {
      const how = this.detectionOf(input.metric);
      const since = input.samples.length > 0 ? input.samples[0]![0] : 0;
      st = {
        service: this.service, metric: input.metric, labels, detector: this.factory.create(how.tier, how.sensitivity),
        since, quietUntil: since + (how.warmupMs ?? 0), position: 0, covered: 0,
        rules: new RuleWindow(), limit: how.limit, direction: how.sensitivity?.direction ?? 'both', how,
      };
      this.series.set(id, st);
    } else {
      const how = this.detectionOf(input.metric);
      if (how !== st.how) this.reconfigure(st, how, input.samples[0]?.[0]);
    }
    if (position > 0) {
      if (position <= st.covered) return;
      if (position > st.position) st.position = position;
    }
    const det = st.detector;
    const mode = CAPABILITIES[level].detection;
    if (mode === 'rule' || mode === 'static') {
      this.judge(st, id, input, out, mode === 'rule', scored);
      return;
    }
    const quietUntil = st.quietUntil;
    const rules = st.rules;
    for (const [ts, value] of input.samples) {
      det.update(ts, value);
      scored?.push([ts, det.rawScore, det.expected]);
      rules.learn(value);
      // During its warm-up a series learns but reports nothing (NAB's probation, in time).
      if (det.anomalous && ts >= quietUntil) {
        out.push({
          id: stableId('an', `${this.tenant}:${this.service}:${id}:${ts}`),
          tenant: this.tenant,
          service: this.service,
          metric: input.metric,
          labels,
          timestamp: ts,
          value,
          expected: det.expected,
          // undamped: the correlator de-duplicates an episode's alerts itself, and a damped
          // score would let a harmless alarm hide the real fault right after it
          score: det.rawScore,
          tier: det.tier,
          direction: value >= det.expected ? 'up' : 'down',
        });
      }
    }
  }

  /**
   * The tenant's settings changed: a new tier starts a fresh detector with its warm-up from
   * this batch (another tier's state means nothing to it); a new sensitivity is applied to the
   * learnt state (its snapshot restored with it), so nothing is forgotten; limits apply as they are.
   */
  private reconfigure(st: SeriesState, how: MetricDetection, firstTs: number | undefined): void {
    if (how.tier !== st.detector.tier) {
      st.detector = this.factory.create(how.tier, how.sensitivity);
      const since = firstTs ?? st.since;
      st.quietUntil = since + (how.warmupMs ?? 0);
    } else if (JSON.stringify(how.sensitivity ?? {}) !== JSON.stringify(st.how.sensitivity ?? {})) {
      // the factory resolves the new sensitivity (the node's defaults under the metric's own)
      const resolved = this.factory.create(how.tier, how.sensitivity).snapshot().sensitivity;
      st.detector = this.factory.restore({ ...st.detector.snapshot(), sensitivity: resolved });
    }
    st.limit = how.limit;
    st.direction = how.sensitivity?.direction ?? 'both';
    st.how = how;
  }

  /** L2-L4: the detector still learns; the rules decide (`z`: the window rule too, else limits only). */
  private judge(st: SeriesState, id: string, input: SeriesInput, out: AnomalyEvent[], z: boolean, scored?: Array<[number, number, number]>): void {
    const det = st.detector;
    for (const [ts, value] of input.samples) {
      det.update(ts, value);
      scored?.push([ts, det.rawScore, det.expected]);
      const hit = st.rules.judge(value, st.limit, z, st.direction);
      if (!hit) continue;
      out.push({
        id: stableId('an', `${this.tenant}:${this.service}:${id}:${ts}`),
        tenant: this.tenant, service: this.service, metric: input.metric, labels: st.labels,
        timestamp: ts, value, expected: hit.expected, score: hit.score, tier: det.tier, direction: hit.direction,
      });
    }
  }

  /** The state packed by `packer`, with the series' names this service holds (in the snapshot's order). */
  pack(packer: StatePacker): Uint8Array {
    return packer(this.snapshot(), [...this.series.keys()]);
  }

  snapshot(): SeriesSnapshot[] {
    return [...this.series.values()].map((s) => ({
      service: s.service, metric: s.metric, labels: s.labels, detector: s.detector.snapshot(), since: s.since, quietUntil: s.quietUntil,
      position: s.position,
    }));
  }
}

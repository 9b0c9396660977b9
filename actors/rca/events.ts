// From the detectors' anomaly events to the ranking's per-series evidence: what the
// actor hosting RCA will feed it as an incident's alerts arrive. Detector scores are
// calibrated in [0, 1] and carry no noise scale, so a series' deviation is its largest
// relative excess over the expectation (|value - expected| / |expected|), which compares
// series of different services and units.
import type { AnomalyEvent } from '../../protocols/index.ts';
import { DEFAULT_ANOMALY_BOUND } from './constants.ts';
import type { SeriesAnomaly } from './types.ts';

/** A relative excess is measured against at least this much expectation (avoids 0/0). */
const MIN_EXPECTED = 1e-9;

export function anomaliesFromEvents(events: readonly AnomalyEvent[]): SeriesAnomaly[] {
  const bySeries = new Map<string, AnomalyEvent[]>();
  for (const e of events) {
    const k = `${e.service}\u0000${e.metric}\u0000${e.direction}`;
    const list = bySeries.get(k) ?? [];
    list.push(e);
    bySeries.set(k, list);
  }
  const out: SeriesAnomaly[] = [];
  for (const list of bySeries.values()) {
    list.sort((a, b) => a.timestamp - b.timestamp);
    const first = list[0]!;
    const sign = first.direction === 'up' ? 1 : -1;
    let score = 0;
    let deviation = 0;
    let peakAt = first.timestamp;
    let onset: number | undefined;
    const excess: Array<[number, number]> = [];
    for (const e of list) {
      const ex = sign * (e.value - e.expected);
      excess.push([e.timestamp, ex]);
      const rel = Math.max(0, ex) / Math.max(Math.abs(e.expected), MIN_EXPECTED);
      if (rel > deviation) { deviation = rel; peakAt = e.timestamp; }
      score = Math.max(score, e.score);
      if (onset === undefined && e.score >= DEFAULT_ANOMALY_BOUND) onset = e.timestamp;
    }
    out.push({ service: first.service, metric: first.metric, score, deviation, direction: first.direction, peakAt, excess, ...(onset !== undefined ? { onset } : {}) });
  }
  return out;
}

// Monotone counters (requests served, bytes sent) are judged by their rate, not their value:
// a counter's value is a new all-time high at every sample, and its reset to zero (a process
// restart) is not an anomaly. Any tier is wrapped: the first `COUNTER_PROBE` samples go to the
// tier as they are; if they never decreased and rose at least `COUNTER_MIN_RISES` times, the
// series is a counter and a fresh tier learns its rate (per second) from then on. In rate
// mode a decrease is a reset: it scores 0, is not anomalous, and the count restarts from it
// (as Prometheus' rate() reads a reset). The probe keeps no samples, only counts: a million
// series probe at once in a few dozen bytes each.
import type { Tier } from '../../protocols/types.ts';
import type { Detector, DetectorSnapshot } from './detector.ts';

export const COUNTER_PROBE = 32;
/** a counter rises at most samples; a flat or stepwise gauge does not count */
export const COUNTER_MIN_RISES = 24;

type Mode = 'probe' | 'rate' | 'value';

export interface CounterState {
  mode: Mode;
  /** finite samples probed, and how many of them rose */
  seen: number;
  rises: number;
  /** the last finite sample ([ms or null, value]; null before the first) */
  last: [number | null, number] | null;
}

export class CounterAware implements Detector {
  readonly tier: Tier;
  private mode: Mode = 'probe';
  /** mode 'value' (most series), as a boolean for the hot path */
  private plain = false;
  private seen = 0;
  private rises = 0;
  private lastTime = NaN;
  private lastValue = NaN;
  /** rate mode: the last sample's own figures (a reset, or the expectation in counts) */
  private own: { anomalous: boolean; expected: number; rawScore: number } | undefined;

  constructor(
    private inner: Detector,
    private readonly fresh: () => Detector,
  ) {
    this.tier = inner.tier;
  }

  /** The tier behind (for hosts and tests that read tier-specific fields). */
  get detector(): Detector {
    return this.inner;
  }

  /** Is the series read as a counter (by its rate)? */
  get counter(): boolean {
    return this.mode === 'rate';
  }

  // a plain series reads the tier's own figures: nothing is copied on the hot path
  get anomalous(): boolean {
    return this.own !== undefined ? this.own.anomalous : this.inner.anomalous;
  }

  get expected(): number {
    return this.own !== undefined ? this.own.expected : this.inner.expected;
  }

  get rawScore(): number {
    return this.own !== undefined ? this.own.rawScore : this.inner.rawScore;
  }

  update(timestamp: number, value: number): number {
    if (this.plain) return this.inner.update(timestamp, value);
    if (this.mode === 'rate') return this.rate(timestamp, value);
    const score = this.inner.update(timestamp, value);
    if (Number.isFinite(value)) this.probe(timestamp, value);
    return score;
  }

  private probe(timestamp: number, value: number): void {
    const n = ++this.seen;
    if (n > 1) {
      if (value < this.lastValue) {
        this.settle('value');
        return;
      }
      if (value > this.lastValue) this.rises++;
    }
    this.lastTime = timestamp;
    this.lastValue = value;
    if (n >= COUNTER_PROBE) this.settle(this.rises >= COUNTER_MIN_RISES ? 'rate' : 'value');
  }

  private settle(mode: 'rate' | 'value'): void {
    this.mode = mode;
    this.plain = mode === 'value';
    if (mode === 'value') return;
    this.inner = this.fresh();
    this.own = { anomalous: false, expected: this.lastValue, rawScore: 0 };
  }

  private rate(timestamp: number, value: number): number {
    const own = this.own as NonNullable<typeof this.own>;
    const d = this.inner;
    if (!Number.isFinite(value)) {
      const score = d.update(timestamp, NaN);
      own.anomalous = d.anomalous;
      own.rawScore = d.rawScore;
      own.expected = this.lastValue;
      return score;
    }
    const last = this.lastValue;
    const seconds = secondsSince(this.lastTime, timestamp);
    this.lastTime = timestamp;
    this.lastValue = value;
    if (value < last) {
      // a reset: the rate over it is unknown; the count restarts here
      own.anomalous = false;
      own.rawScore = 0;
      own.expected = value;
      return 0;
    }
    const score = d.update(timestamp, (value - last) / seconds);
    own.anomalous = d.anomalous;
    own.rawScore = d.rawScore;
    // the expectation in the counter's own terms: where the expected rate would have taken it
    own.expected = last + d.expected * seconds;
    return score;
  }

  snapshot(): DetectorSnapshot {
    const state: CounterState = {
      mode: this.mode,
      seen: this.seen,
      rises: this.rises,
      last: this.seen === 0 ? null : [Number.isFinite(this.lastTime) ? this.lastTime : null, this.lastValue],
    };
    // added to the tier's own object, which is made fresh per call: a spread copied it whole
    // (a checkpoint packs every series, every few seconds), with the same key order as here
    const snapshot = this.inner.snapshot();
    snapshot.counter = state;
    return snapshot;
  }

  /** Wraps a restored tier; a snapshot without `counter` (written before counters were
   * read by rate) continues as a plain series. */
  static restore(inner: Detector, snapshot: DetectorSnapshot, fresh: () => Detector): CounterAware {
    const d = new CounterAware(inner, fresh);
    const s = snapshot.counter as CounterState | undefined;
    if (s === undefined) {
      d.mode = 'value';
      d.plain = true;
      return d;
    }
    if (s.mode !== 'probe' && s.mode !== 'rate' && s.mode !== 'value') throw new RangeError(`detector snapshot: unknown counter mode ${String(s.mode)}`);
    d.mode = s.mode;
    d.plain = s.mode === 'value';
    d.seen = s.seen;
    d.rises = s.rises;
    d.lastTime = s.last?.[0] ?? NaN;
    d.lastValue = s.last?.[1] ?? NaN;
    if (s.mode === 'rate') d.own = { anomalous: false, expected: d.lastValue, rawScore: 0 };
    return d;
  }
}

/** Seconds from `from` to `timestamp`; one second when time is unreadable or not ahead. */
function secondsSince(from: number, timestamp: number): number {
  const s = (timestamp - from) / 1000;
  return s > 0 && Number.isFinite(s) ? s : 1;
}

/** The tier behind a detector (itself when it is not wrapped): for tier-specific fields. */
export function innerDetector(d: Detector): Detector {
  return d instanceof CounterAware ? d.detector : d;
}

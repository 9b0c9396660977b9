// Monotone counters (requests served, bytes sent) are judged by their rate, not their value:
// a counter's value is a new all-time high at every sample, and its reset to zero (a process
// restart) is not an anomaly. Any tier is wrapped: the first `probe` samples go to the tier
// as they are and are kept; if they never decreased and rose at least `minRises` times, the
// series is a counter: a fresh tier learns the rates (per second) of the kept samples and
// then of every new one. In rate mode a decrease is a reset: it scores 0, is not anomalous,
// and the count restarts from it (as Prometheus' rate() reads a reset).
import type { Tier } from '../../protocols/types.ts';
import type { Detector, DetectorSnapshot } from './detector.ts';

export const COUNTER_PROBE = 32;
/** a counter rises at most samples; a flat or stepwise gauge does not count */
export const COUNTER_MIN_RISES = 24;

type Mode = 'probe' | 'rate' | 'value';

export interface CounterState {
  mode: Mode;
  /** probe: the kept samples; rate: the last sample ([ms, value]) */
  kept: Array<[number | null, number]>;
}

export class CounterAware implements Detector {
  readonly tier: Tier;
  private mode: Mode = 'probe';
  /** mode 'value' (most series), as a boolean for the hot path */
  private plain = false;
  private kept: Array<[number, number]> = [];
  /** rate mode: the last sample's own figures (a reset, or the expectation in counts) */
  private own = { anomalous: false, expected: NaN, rawScore: 0 };

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
    return this.mode === 'rate' ? this.own.anomalous : this.inner.anomalous;
  }

  get expected(): number {
    return this.mode === 'rate' ? this.own.expected : this.inner.expected;
  }

  get rawScore(): number {
    return this.mode === 'rate' ? this.own.rawScore : this.inner.rawScore;
  }

  update(timestamp: number, value: number): number {
    if (this.plain) return this.inner.update(timestamp, value);
    if (this.mode === 'rate') return this.rate(timestamp, value);
    const score = this.inner.update(timestamp, value);
    if (Number.isFinite(value)) {
      this.kept.push([timestamp, value]);
      if (this.kept.length >= COUNTER_PROBE) this.decide();
    }
    return score;
  }

  private decide(): void {
    const kept = this.kept;
    let rises = 0;
    let monotone = true;
    for (let i = 1; i < kept.length; i++) {
      const step = (kept[i] as [number, number])[1] - (kept[i - 1] as [number, number])[1];
      if (step < 0) monotone = false;
      if (step > 0) rises++;
    }
    if (!monotone || rises < COUNTER_MIN_RISES) {
      this.mode = 'value';
      this.plain = true;
      this.kept = [];
      return;
    }
    this.mode = 'rate';
    this.inner = this.fresh();
    for (let i = 1; i < kept.length; i++) this.inner.update((kept[i] as [number, number])[0], perSecond(kept[i - 1] as [number, number], kept[i] as [number, number]));
    this.kept = [kept[kept.length - 1] as [number, number]];
  }

  private rate(timestamp: number, value: number): number {
    const last = this.kept[0] as [number, number];
    const own = this.own;
    const d = this.inner;
    if (!Number.isFinite(value)) {
      const score = d.update(timestamp, NaN);
      own.anomalous = d.anomalous;
      own.rawScore = d.rawScore;
      own.expected = last[1];
      return score;
    }
    if (value < last[1]) {
      // a reset: the rate over it is unknown; the count restarts here
      this.kept = [[timestamp, value]];
      own.anomalous = false;
      own.rawScore = 0;
      own.expected = value;
      return 0;
    }
    const seconds = secondsBetween(last, timestamp);
    const score = d.update(timestamp, perSecond(last, [timestamp, value]));
    own.anomalous = d.anomalous;
    own.rawScore = d.rawScore;
    // the expectation in the counter's own terms: where the expected rate would have taken it
    own.expected = last[1] + d.expected * seconds;
    this.kept = [[timestamp, value]];
    return score;
  }

  snapshot(): DetectorSnapshot {
    const state: CounterState = { mode: this.mode, kept: this.kept.map(([t, v]) => [Number.isFinite(t) ? t : null, v]) };
    return { ...this.inner.snapshot(), counter: state };
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
    d.kept = s.kept.map(([t, v]) => [t === null ? NaN : t, v]);
    return d;
  }
}

/** Seconds between a kept sample and a timestamp; one step of one second when time is unreadable. */
function secondsBetween(from: [number, number], timestamp: number): number {
  const s = (timestamp - from[0]) / 1000;
  return s > 0 && Number.isFinite(s) ? s : 1;
}

function perSecond(from: [number, number], to: [number, number]): number {
  return (to[1] - from[1]) / secondsBetween(from, to[0]);
}

/** The tier behind a detector (itself when it is not wrapped): for tier-specific fields. */
export function innerDetector(d: Detector): Detector {
  return d instanceof CounterAware ? d.detector : d;
}

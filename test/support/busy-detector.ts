// A detector that holds the thread a fixed time per sample, as real detection would, and
// tells the test each value it is given, in order: for tests of what a tenant's processing
// costs others (isolation tiers, budgets). It never finds an anomaly.
import type { Detector, DetectorSnapshot } from '../../actors/detection/index.ts';
import type { DetectorFactory } from '../../actors/service/index.ts';
import type { Tier } from '../../protocols/index.ts';

class BusyDetector implements Detector {
  anomalous = false;
  expected = 0;
  rawScore = 0;
  constructor(readonly tier: Tier, private readonly ms: number, private readonly seen: (value: number) => void) {}
  update(_ts: number, value: number): number {
    const until = performance.now() + this.ms;
    while (performance.now() < until) { /* the actor holds the thread */ }
    this.seen(value);
    return 0;
  }
  snapshot(): DetectorSnapshot {
    return { tier: this.tier, version: 1 };
  }
}

/** Detectors that take `ms` per sample and call `seen` with each value. */
export function busyDetectors(ms: number, seen: (value: number) => void): DetectorFactory {
  return { create: (tier) => new BusyDetector(tier, ms, seen), restore: (s) => new BusyDetector(s.tier, ms, seen) };
}

// A plain rule detector for gateway tests: a value at or above LIMIT is an anomaly with
// score 1. It makes anomalies, alerts and incidents appear exactly when a test wants.
import type { Detector, DetectorSnapshot } from '../../actors/detection/index.ts';
import type { DetectorFactory } from '../../actors/service/index.ts';
import type { Tier } from '../../protocols/index.ts';

export const SPIKE = 1000;

class ThresholdDetector implements Detector {
  anomalous = false;
  expected = 0;
  constructor(readonly tier: Tier) {}

  rawScore = 0;

  update(_timestamp: number, value: number): number {
    this.anomalous = value >= SPIKE;
    this.rawScore = this.anomalous ? 1 : 0;
    return this.rawScore;
  }

  snapshot(): DetectorSnapshot {
    return { tier: this.tier, version: 1 };
  }
}

export const thresholdDetectors: DetectorFactory = {
  create: (tier) => new ThresholdDetector(tier),
  restore: (snapshot) => new ThresholdDetector(snapshot.tier),
};

// The parameter sets leave-one-fold-out may choose from, per tier: two knobs of the shared
// scoring chain, each one a user could reason about, three values each (nine sets):
//  - the refractory span (how long one episode is kept to one alarm): 8, 16 (shipped), 24 h;
//  - the likelihood's short-term weight (how many samples a deviation is averaged over:
//    about 10, 5 (shipped) or 3).
// The shipped defaults are the first set (ties go to it). Only the bench reads these; the
// tiers ship their defaults.
import { AGILE_PARAMS, AgileDetector } from '../../actors/detection/agile.ts';
import { BASIC_PARAMS, BasicDetector } from '../../actors/detection/basic.ts';
import { CounterAware, type Detector } from '../../actors/detection/index.ts';
import { createRobust } from '../../actors/detection/robust/index.ts';
import { AGILE_DEVIATIONS, BASIC_DEVIATIONS, resolveSensitivity } from '../../actors/detection/sensitivity.ts';
import { HOUR_MS, SURPRISE_PARAMS, type SurpriseParams } from '../../actors/detection/surprise.ts';
import type { Tier } from '../../protocols/types.ts';
import type { StreamingDetector } from './run.ts';

export interface ParameterSet {
  name: string;
  create(): StreamingDetector;
}

const SPANS_H = [16, 8, 24];
const SHORT_ALPHAS = [0.2, 0.1, 0.3];

function surpriseWith(spanH: number, shortAlpha: number): SurpriseParams {
  return {
    ...SURPRISE_PARAMS,
    likelihood: { ...SURPRISE_PARAMS.likelihood, shortAlpha },
    refractory: { ...SURPRISE_PARAMS.refractory, spanMs: spanH * HOUR_MS },
  };
}

function tierWith(tier: Tier, surprise: SurpriseParams): () => Detector {
  switch (tier) {
    case 'basic':
      return () => new BasicDetector(resolveSensitivity(undefined, BASIC_DEVIATIONS), { ...BASIC_PARAMS, surprise });
    case 'agile':
      return () => new AgileDetector(resolveSensitivity(undefined, AGILE_DEVIATIONS), { ...AGILE_PARAMS, surprise });
    case 'robust':
      return () => createRobust(undefined, { kernel: { ...AGILE_PARAMS, surprise } });
    default:
      throw new RangeError(`unknown tier ${String(tier)}`);
  }
}

/** `only`: just the shipped set (a quick in-sample run). */
export function parameterSets(tier: Tier, only = false): ParameterSet[] {
  const sets: ParameterSet[] = [];
  for (const spanH of SPANS_H) {
    for (const shortAlpha of SHORT_ALPHAS) {
      const make = tierWith(tier, surpriseWith(spanH, shortAlpha));
      sets.push({ name: `span ${spanH}h a ${shortAlpha}`, create: () => new CounterAware(make(), make) });
      if (only) return sets;
    }
  }
  return sets;
}

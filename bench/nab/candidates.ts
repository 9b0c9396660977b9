// The parameter sets leave-one-fold-out may choose from, per tier. Kept small on purpose:
// each knob is one a user could reason about, and the shipped default is always the first
// (ties go to it). The sets are only read by the bench; the tiers ship their defaults.
import { createDetector } from '../../actors/detection/index.ts';
import type { Tier } from '../../protocols/types.ts';
import type { StreamingDetector } from './run.ts';

export interface ParameterSet {
  name: string;
  create(): StreamingDetector;
}

export function parameterSets(tier: Tier): ParameterSet[] {
  return [{ name: 'default', create: () => createDetector(tier) }];
}

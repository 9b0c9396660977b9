// The model error's own tail (../exceedance-tail.ts) at the Robust tier's level and
// forgetting (params.ts): exceedances of 4 error units, forgotten over ~2,000 samples.
import { ExceedanceTail as Tail } from '../exceedance-tail.ts';
import { ROBUST } from './params.ts';

export class ExceedanceTail extends Tail {
  constructor(level: number = ROBUST.tailLevel) {
    super({ level, alpha: 1 - ROBUST.tailDecay });
  }
}

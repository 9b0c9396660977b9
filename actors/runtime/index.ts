// actors/runtime/: Vigil's typed actor runtime over nact, with OTP-style supervision
// (decisions in supervisors/), an injected Clock and a seeded Rng.
export type * from './types.ts';
export { createActorSystem } from './system.ts';
export { SystemClock } from './system-clock.ts';
export { VirtualClock } from './virtual-clock.ts';
export { SeededRng, createRng } from './rng.ts';
export { nextTurn } from './turn.ts';
export { DEFAULT_ASK_TIMEOUT_MS, ROOT_PATH } from './defaults.ts';
export {
  DEFAULT_BACKOFF, DEFAULT_RESTART_INTENSITY, DEFAULT_RESTART_PERIOD_MS,
} from '../../supervisors/index.ts';

// supervisors/degradation: the level L0-L4 every stage reads, derived from faults with
// hysteresis, and the table of what each stage does at each level.
export { CAPABILITIES, FULL_SERVICE, LEVELS, LEVEL_NAMES, capabilities, parseLevel } from './levels.ts';
export type { Level, LevelSource, StageCapabilities } from './levels.ts';
export { BREAKER_DEPENDENCY, DEPENDENCIES, breakerSaysDown, dependencyOfBreaker, levelFor } from './mapping.ts';
export type { Dependency } from './mapping.ts';
export { DEFAULT_RECOVERY_DWELL_MS, DegradationController } from './controller.ts';
export type { DegradationInput, DegradationOptions, DegradationStatus, LevelChange, LevelChangeCause } from './controller.ts';

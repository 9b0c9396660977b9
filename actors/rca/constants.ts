// The ranking's few constants, each with its reason (README: "Constants").

/** A series (and a service) counts as anomalous from this score on: the calibrated midpoint. */
export const DEFAULT_ANOMALY_BOUND = 0.5;
/**
 * Deviation (robust z) that maps to the anomaly bound when a deviation is squashed into a
 * score: 5 robust deviations, the bound PetShop's own baseline uses (MAD threshold 5).
 */
export const DEFAULT_DEVIATION_BOUND = 5;
/** The walker's chance to go on rather than restart at the symptoms (PageRank's usual 0.85). */
export const DEFAULT_DAMPING = 0.85;
/**
 * Weight of a step back from a service to an anomalous caller, relative to a step to an
 * anomalous dependency (MicroRCA-style backward edges): small, so the walk leaves a dead
 * end without pretending that callers cause their dependencies' trouble.
 */
export const DEFAULT_BACKWARD_WEIGHT = 0.1;
/**
 * The causal score weighs a service's unexplained deviation squared (z^2 is the evidence
 * of a shift in Gaussian noise, up to a constant); picked over 1 and 3 on PetShop's train issues.
 */
export const DEFAULT_DEVIATION_POWER = 2;
/** Power iteration stops when the visit frequencies move less than this (L1 distance). */
export const WALK_TOLERANCE = 1e-9;
export const WALK_MAX_ITERATIONS = 200;

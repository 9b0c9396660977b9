// The decision layer shared by all tiers: a sample is anomalous when its calibrated score
// reaches the threshold AND its deviation passes the bound on the chosen side. The score
// carries "how surprising"; the bound lets an operator ignore small but surprising moves.
import type { Sensitivity } from './detector.ts';

export type Side = 'up' | 'down' | 'both';

export interface ResolvedSensitivity {
  deviations: number;
  direction: Side;
  threshold: number;
  drift: boolean;
}

/** Default score threshold: the corpus-wide NAB optimum (standard profile) is near it for
 * the statistical tiers (p ~ 1e-7 under the series' own history). */
export const DEFAULT_THRESHOLD = 0.7;
/** Default bounds in robust deviations, per tier. The spread is a mean absolute deviation
 * (0.8 sigma for Gaussian noise), so Agile's 4 spreads is the classic ~3 sigma; Basic's
 * spread also holds the structure it does not model (a season), so its bound is lower. */
export const BASIC_DEVIATIONS = 3;
export const AGILE_DEVIATIONS = 4;

export function resolveSensitivity(s: Sensitivity | undefined, defaultDeviations: number): ResolvedSensitivity {
  const deviations = s?.deviations ?? defaultDeviations;
  const threshold = s?.threshold ?? DEFAULT_THRESHOLD;
  const direction = s?.direction ?? 'both';
  const drift = s?.drift ?? false;
  if (!(deviations >= 0)) throw new RangeError(`sensitivity.deviations must be >= 0, got ${deviations}`);
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`sensitivity.threshold must be in [0, 1], got ${threshold}`);
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') throw new RangeError(`sensitivity.direction must be up, down or both`);
  if (typeof drift !== 'boolean') throw new RangeError(`sensitivity.drift must be true or false`);
  if (deviations === defaultDeviations && threshold === DEFAULT_THRESHOLD && direction === 'both' && !drift) return defaultsFor(defaultDeviations);
  return { deviations, threshold, direction, drift };
}

/** One frozen object for the series that take a tier's defaults (most do): it is read at
 * every sample, and one shared object stays in the CPU's caches where one per series,
 * among tens of thousands, is a cache miss each time (slots.ts). */
const DEFAULTS = new Map<number, ResolvedSensitivity>();

function defaultsFor(deviations: number): ResolvedSensitivity {
  let d = DEFAULTS.get(deviations);
  if (d === undefined) DEFAULTS.set(deviations, (d = Object.freeze({ deviations, threshold: DEFAULT_THRESHOLD, direction: 'both' as const, drift: false })));
  return d;
}

/** The deviation as seen from the chosen side (>= 0; 0 when it points the other way). */
export function sided(deviation: number, direction: Side): number {
  if (direction === 'both') return Math.abs(deviation);
  if (direction === 'up') return deviation > 0 ? deviation : 0;
  return deviation < 0 ? -deviation : 0;
}

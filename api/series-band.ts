// The detector's band around a series, from what the store keeps per sample: the value, the
// detector's expected value and its score. The scores table holds no bounds, so the band's
// width is the detector's own error in the window: expected ± BAND_DEVIATIONS robust sigma
// of (value − expected) over the samples answered. A sample outside it missed the detector's
// expectation by far more than the detector usually misses there.

/** Width of the band in robust sigmas of the detector's residuals. */
export const BAND_DEVIATIONS = 3;
/** Normal consistency of the MAD (sigma = 1.4826 × MAD for Gaussian residuals). */
const MAD_SIGMA = 1.4826;
/** The band is never narrower than this share of the level (a flat series has MAD 0). */
const MIN_SIGMA_SHARE = 0.01;

export interface BandPoint {
  t: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  score: number;
}

export interface Band {
  points: BandPoint[];
  /** the robust sigma of value − expected the band is drawn with (0 with no samples) */
  sigma: number;
  deviations: number;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const m = n >> 1;
  return n % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** `rows`: [t, value, score, expected] in time order. Rows without a finite expected value or score are left out. */
export function detectorBand(rows: ReadonlyArray<readonly [number, number, number, number]>): Band {
  const kept = rows.filter(([, v, s, e]) => Number.isFinite(v) && Number.isFinite(s) && Number.isFinite(e));
  const residuals = Float64Array.from(kept, ([, v, , e]) => v - e).sort();
  const mid = median(residuals);
  const spread = Float64Array.from(residuals, (r) => Math.abs(r - mid)).sort();
  const level = median(Float64Array.from(kept, ([, , , e]) => Math.abs(e)).sort());
  const sigma = kept.length === 0 ? 0 : Math.max(MAD_SIGMA * median(spread), MIN_SIGMA_SHARE * level, Number.MIN_VALUE);
  const half = BAND_DEVIATIONS * sigma;
  return {
    sigma,
    deviations: BAND_DEVIATIONS,
    points: kept.map(([t, value, score, expected]) => ({ t, value, expected, lower: expected - half, upper: expected + half, score })),
  };
}

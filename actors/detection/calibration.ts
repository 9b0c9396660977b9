// Maps a log tail probability onto the [0, 1] score every tier emits. With L = log10(1/p)
// ("one chance in 10^L under this series' own history"):
//   score = L / 10           for L <= 9   (0.5 is 1e-5, 0.7 is 1e-7, 0.9 is 1e-9)
//   score = 1 - 0.9 / L      beyond       (0.95 is 1e-18, 0.99 is 1e-90; never 1)
// The linear part keeps the meaning every threshold had; the tail keeps resolution near the
// top, so a larger anomaly always scores higher than a smaller one instead of both sticking
// at 1. One threshold serves all series, whatever their units, level or noise.

/** Decades (L) at which the linear part hands over to the tail. */
export const LINEAR_DECADES = 9;

/** Score of a surprise of `decades` = log10(1/p) >= 0. */
export function scoreFromDecades(decades: number): number {
  if (!(decades > 0)) return 0;
  if (decades <= LINEAR_DECADES) return decades / 10;
  return 1 - (0.1 * LINEAR_DECADES) / decades;
}

/** Decades of a natural-log tail probability (log p <= 0). */
export function decadesOfLogTail(logTail: number): number {
  return logTail < 0 ? -logTail / Math.LN10 : 0;
}

export function scoreFromLogTail(logTail: number): number {
  return scoreFromDecades(decadesOfLogTail(logTail));
}

/** The inverse: decades of a score in [0, 1) (for documentation and tests). */
export function decadesOfScore(score: number): number {
  if (score <= LINEAR_DECADES / 10) return score * 10;
  return (0.1 * LINEAR_DECADES) / (1 - score);
}

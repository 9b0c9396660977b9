// Natural log of the upper tail of the standard normal, log Q(k), accurate in the far tail
// where Q itself underflows. Scores are built from log-probabilities so that "1 in 10^6"
// and "1 in 10^9" stay distinguishable.

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erfc(x) for x >= 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return (
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** log P(Z > k) for a standard normal Z. */
export function logUpperTail(k: number): number {
  if (k < 0) return Math.log(1 - 0.5 * erfc(-k / Math.SQRT2));
  if (k < 8) return Math.log(0.5 * erfc(k / Math.SQRT2));
  // asymptotic series: Q(k) ~ phi(k)/k * (1 - 1/k^2)
  return -0.5 * k * k - LN_SQRT_2PI - Math.log(k) + Math.log(1 - 1 / (k * k));
}

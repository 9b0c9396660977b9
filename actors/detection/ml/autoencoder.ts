// A tiny dense autoencoder (width → hidden (tanh) → width, linear out) as plain arrays, so
// the hot path evaluates it in JS with no tensor overhead; tfjs only trains it.
export interface AutoencoderWeights {
  width: number;
  hidden: number;
  /** width × hidden, row-major (input i, unit j at i * hidden + j) */
  w1: number[];
  b1: number[];
  /** hidden × width, row-major */
  w2: number[];
  b2: number[];
}

/** Mean squared reconstruction error of `x` (length width); `h` is scratch of length hidden. */
export function reconstructionError(w: AutoencoderWeights, x: ArrayLike<number>, h: Float64Array): number {
  const { width, hidden, w1, b1, w2, b2 } = w;
  for (let j = 0; j < hidden; j++) {
    let s = b1[j] as number;
    for (let i = 0; i < width; i++) s += (x[i] as number) * (w1[i * hidden + j] as number);
    h[j] = Math.tanh(s);
  }
  let err = 0;
  for (let i = 0; i < width; i++) {
    let y = b2[i] as number;
    for (let j = 0; j < hidden; j++) y += (h[j] as number) * (w2[j * width + i] as number);
    const d = y - (x[i] as number);
    err += d * d;
  }
  return err / width;
}

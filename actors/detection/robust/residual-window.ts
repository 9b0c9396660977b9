// The last few standardised residuals, and the three statistics the tier watches on them:
// the point (spikes), the window mean × √n (level shifts: unit variance under noise) and the
// window RMS (variance changes).
import { ROBUST } from './params.ts';

export class ResidualWindow {
  readonly values = new Float64Array(ROBUST.window);
  filled = 0;
  next = 0;

  push(z: number): void {
    this.values[this.next] = z;
    this.next = (this.next + 1) % this.values.length;
    if (this.filled < this.values.length) this.filled++;
  }

  /** [|point|, |mean|·√n, rms] of the window (after push). */
  statistics(z: number, out: Float64Array): Float64Array {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < this.filled; i++) {
      const v = this.values[i] as number;
      sum += v;
      sq += v * v;
    }
    out[0] = Math.abs(z);
    out[1] = Math.abs(sum) / Math.sqrt(this.filled);
    out[2] = Math.sqrt(sq / this.filled);
    return out;
  }

  state(): number[] {
    return [this.filled, this.next, ...this.values];
  }

  restore(s: readonly number[]): this {
    this.filled = s[0] as number;
    this.next = s[1] as number;
    this.values.set(s.slice(2));
    return this;
  }
}

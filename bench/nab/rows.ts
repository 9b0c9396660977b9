// Per-row NAB weights of one file, independent of any threshold: what a detection at this
// row would be worth (the unweighted scaled sigmoid), and which window, if any, it belongs to.
// Follows NAB's Sweeper.calcSweepScore, including its quirks (a window is entered only on a
// row whose timestamp equals the window start; its end is the first row with the end stamp).

/** Marks rows inside the probation period: never scored. */
export const PROBATION = -2;
/** Marks rows outside every window: a detection there is a false positive. */
export const OUTSIDE = -1;

export interface LabelledRows {
  /** unweighted value of a detection at each row: in a window (0, ~1], outside [-1, 0) */
  worth: Float64Array;
  /** window index (0-based within the file), OUTSIDE or PROBATION, per row */
  window: Int32Array;
  /** windows with at least one scored row (a window inside probation is not counted) */
  scoredWindows: number;
}

/** NAB's scaled sigmoid: +0.987 at a window's first row, 0 at its last, -> -1 far after it. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition > 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

/** First min(floor(0.15 n), 750) rows are probation. */
export function probationLength(rows: number, probationPercent = 0.15): number {
  return Math.min(Math.floor(probationPercent * rows), probationPercent * 5000);
}

export function labelRows(timestamps: readonly number[], windows: ReadonlyArray<readonly [number, number]>): LabelledRows {
  const n = timestamps.length;
  const worth = new Float64Array(n);
  const window = new Int32Array(n);
  const probation = probationLength(n);
  const pending = windows.slice();
  let next = 0; // index into windows of the current / next window
  let inWindow = false;
  let rightIndex = -1;
  let width = 0;
  let prevRight = -1;
  let prevWidth = 0;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const t = timestamps[i] as number;
    if (!inWindow && next < pending.length && t === (pending[next] as readonly [number, number])[0]) {
      const [start, end] = pending[next] as readonly [number, number];
      rightIndex = timestamps.indexOf(end);
      width = rightIndex - timestamps.indexOf(start) + 1;
      inWindow = true;
    }
    let w: number;
    if (inWindow) {
      w = scaledSigmoid(-(rightIndex - i + 1) / width);
      window[i] = next;
    } else {
      w = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      window[i] = OUTSIDE;
    }
    worth[i] = w;
    if (i < probation) window[i] = PROBATION;
    else if (inWindow) seen.add(next);
    if (inWindow && t === (pending[next] as readonly [number, number])[1]) {
      prevRight = i;
      prevWidth = width;
      inWindow = false;
      next++;
    }
  }
  return { worth, window, scoredWindows: seen.size };
}

// Where the scoring chain keeps its numbers. V8 boxes each double field of an object as a
// heap number of its own, and a node holds tens of thousands of series, each read once per
// sample: a chain of small objects cost a dozen scattered cache misses per sample, which was
// most of a tier's time with 10,000 series interleaved (`npm run bench:detect`). So the
// chain is one object with one array of unboxed doubles; each part (likelihood, range,
// refractory, time step, noise channel) is pure functions over its slots in that array,
// given where they begin.

/** An array of `n` unboxed doubles, all `fill`. */
export function doubleSlots(n: number, fill = 0): number[] {
  const s: number[] = [];
  // a first element that is no small integer makes the elements doubles from the start
  for (let i = 0; i < n; i++) s.push(0.5);
  return s.fill(fill);
}

// Synthetic series for the detection tests: a daily cycle (5-minute samples) with Gaussian
// noise from a seeded generator, and one injected fault. Deterministic for a given seed.

export const STEP_MS = 300_000;
export const DAY = 288;
export const LENGTH = 10 * DAY;
/** first faulty sample: day 8, a third of the way into the day */
export const ONSET = 8 * DAY + 100;

export type Fault = 'none' | 'spike' | 'shift' | 'variance' | 'pattern';

/** A tiny seeded generator the synthetic series are defined by (changing it changes every series). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Series {
  timestamps: number[];
  values: number[];
}

/** 100 + 10 sin(day) + N(0, 1), with the fault from ONSET (spike: one sample +15; shift:
 * +15 for good; variance: noise x8; pattern: the cycle stops for half a day). */
export function seasonalSeries(fault: Fault, seed: number): Series {
  const random = mulberry32(seed);
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < LENGTH; i++) {
    const broken = fault === 'pattern' && i >= ONSET && i < ONSET + DAY / 2;
    const season = 10 * Math.sin((2 * Math.PI * (broken ? ONSET : i)) / DAY);
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    let x = 100 + season + gauss * (fault === 'variance' && i >= ONSET ? 8 : 1);
    if (fault === 'spike' && i === ONSET) x += 15;
    if (fault === 'shift' && i >= ONSET) x += 15;
    timestamps.push(1_400_000_000_000 + i * STEP_MS);
    values.push(x);
  }
  return { timestamps, values };
}

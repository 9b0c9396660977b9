// What the tier knows about a sample beyond its score, as the inputs of the learnt rescorer
// (rescorer.ts): each is a figure the detector already has or keeps in a few numbers, none
// needs the series' values. The per-sample state (the last kernel alarm, the run of errors
// of one sign, two averages of the squared error) is updated on every sample; the vector
// itself is filled only for the few samples the rescorer judges.
import { ROBUST } from './params.ts';

/** Names of the features in their order (the shipped weights carry them, so a reordering
 * is caught at load, not read wrongly). */
export const FEATURE_NAMES = [
  'score', // the score to rescore (after familiarity and recurrence damping)
  'log_abs_z', // log(1 + |z|): how far beyond the baseline, in spreads
  'surprise', // the autoencoder's surprise (decades), clipped
  'recurring', // inside a recurring alarm's episode (recurrence.ts)
  'log_hours_since_alarm', // log10(1 + hours since the kernel's previous alarm), capped at a week
  'sign_run', // errors of the current sign in a row, ÷ 16, capped at 1
  'log_var_ratio', // log of the short-term over the long-term mean squared error
  'from_noise', // the kernel's score came from the series going quiet
] as const;

export const FEATURES = FEATURE_NAMES.length;

const WEEK_H = 168;
const HOUR_MS = 3_600_000;

export class AlarmFeatures {
  /** data time of the kernel's last alarm before this sample (NaN: none yet) */
  private lastAlarm = NaN;
  private alarmNow = NaN;
  private run = 0;
  private sign = 0;
  private shortVar = 0;
  private longVar = 0;
  readonly x = new Float64Array(FEATURES);

  /** Every finite sample: its standardised error, time, and whether the kernel alarmed. */
  observe(z: number, timestamp: number, alarm: boolean): void {
    const s = z > 0 ? 1 : z < 0 ? -1 : 0;
    this.run = s !== 0 && s === this.sign ? this.run + 1 : 1;
    this.sign = s;
    const c = Math.min(z * z, ROBUST.rescore.varClip);
    this.shortVar += ROBUST.rescore.shortVarAlpha * (c - this.shortVar);
    this.longVar += ROBUST.rescore.longVarAlpha * (c - this.longVar);
    if (Number.isFinite(this.alarmNow)) this.lastAlarm = this.alarmNow;
    this.alarmNow = alarm && Number.isFinite(timestamp) ? timestamp : NaN;
  }

  /** Fills `x` for the sample just observed. */
  fill(score: number, z: number, surprise: number, recurring: boolean, fromNoise: boolean, timestamp: number): Float64Array {
    const x = this.x;
    const since = Number.isFinite(this.lastAlarm) && Number.isFinite(timestamp) ? Math.min(WEEK_H, Math.max(0, (timestamp - this.lastAlarm) / HOUR_MS)) : WEEK_H;
    x[0] = score;
    x[1] = Math.log1p(Math.abs(z));
    x[2] = Math.min(surprise, ROBUST.rescore.surpriseClip);
    x[3] = recurring ? 1 : 0;
    x[4] = Math.log10(1 + since);
    x[5] = Math.min(1, this.run / 16);
    x[6] = Math.log((this.shortVar + 1e-6) / (this.longVar + 1e-6));
    x[7] = fromNoise ? 1 : 0;
    return x;
  }

  state(): number[] {
    return [Number.isFinite(this.lastAlarm) ? this.lastAlarm : 0, Number.isFinite(this.alarmNow) ? this.alarmNow : 0, this.run, this.sign, this.shortVar, this.longVar];
  }

  restore(s: readonly number[] | undefined): this {
    if (s === undefined || s.length !== 6) return this;
    const [a, b, run, sign, sv, lv] = s as [number, number, number, number, number, number];
    this.lastAlarm = a === 0 ? NaN : a;
    this.alarmNow = b === 0 ? NaN : b;
    this.run = run;
    this.sign = sign;
    this.shortVar = sv;
    this.longVar = lv;
    return this;
  }
}

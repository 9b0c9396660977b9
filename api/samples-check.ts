// What the schema cannot say about samples: timestamps integral and inside the node's
// accepted window. Values must be finite: ajv's "number" already refuses NaN/Infinity
// (protobuf can carry them), and this pass checks again so the engine never depends on
// how the body was validated. The whole
// request is refused on the first bad sample, so a client can fix it and retry as is.
import { VigilError, type SeriesInput } from '../protocols/index.ts';

export interface SampleWindow {
  now: number;
  maxFutureSkewMs: number;
  maxPastAgeMs: number;
}

/** Returns the number of samples; throws BAD_REQUEST naming the first bad sample. */
export function checkSamples(series: SeriesInput[], w: SampleWindow): number {
  const earliest = w.now - w.maxPastAgeMs;
  const latest = w.now + w.maxFutureSkewMs;
  let count = 0;
  for (let i = 0; i < series.length; i++) {
    const samples = series[i]!.samples;
    for (let j = 0; j < samples.length; j++) {
      const pair = samples[j]!;
      const ts = pair[0];
      const v = pair[1];
      // Fast path: one combined test; the slow branch finds out which rule broke.
      if (Number.isInteger(ts) && ts >= earliest && ts <= latest && Number.isFinite(v)) continue;
      throw new VigilError('BAD_REQUEST', `series[${i}].samples[${j}]: ${reason(ts, v, earliest, latest)}`);
    }
    count += samples.length;
  }
  return count;
}

function reason(ts: number, v: number, earliest: number, latest: number): string {
  if (!Number.isFinite(ts)) return 'timestamp is not a finite number';
  if (!Number.isInteger(ts)) return 'timestamp is not an integer (Unix milliseconds)';
  if (ts > latest) return `timestamp ${ts} is too far in the future (latest accepted ${latest})`;
  if (ts < earliest) return `timestamp ${ts} is too old (earliest accepted ${earliest})`;
  return `value ${String(v)} is not a finite number`;
}

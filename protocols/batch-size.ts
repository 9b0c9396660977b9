// How many samples a POST /v1/metrics batch holds: what the tenant's bucket is charged for it
// (api/ingest.ts), and what the refusal process counts in a body it judges by its size
// (api/refusals), which must be the same number.
import { decodeMetricBatch } from './codec.ts';
import type { SeriesInput } from './types.ts';

/** One decoder for every body (stateless between calls); it drops a leading BOM, as the route's JSON parser does. */
const utf8 = new TextDecoder();

export function sampleCount(series: readonly SeriesInput[]): number {
  let n = 0;
  for (const s of series) n += s.samples.length;
  return n;
}

/**
 * The samples of a body as its Content-Type says (JSON or protobuf MetricBatch); undefined when
 * it is neither or does not read as one (the route's own parser then says why).
 */
export function samplesInBody(contentType: string | undefined, body: Uint8Array): number | undefined {
  const type = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  try {
    if (type === 'application/x-protobuf') return sampleCount(decodeMetricBatch(body).series);
    if (type !== 'application/json') return undefined;
    const series = (JSON.parse(utf8.decode(body)) as { series?: unknown } | null)?.series;
    const counted = Array.isArray(series) && series.every((s) => Array.isArray((s as { samples?: unknown } | null)?.samples));
    return counted ? sampleCount(series as SeriesInput[]) : undefined;
  } catch {
    return undefined;
  }
}

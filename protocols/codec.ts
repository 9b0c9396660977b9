// Binary codecs over the generated protobuf code (protocols/gen, made by `npm run gen`).
import './long-off.ts';
import { vigil } from './gen/vigil.js';
import type { SeriesInput } from './types.ts';

export const wire = vigil.v1;

export interface DecodedBatch {
  tenant: string;
  series: SeriesInput[];
}

/** Decodes a MetricBatch into the same shape the JSON body has (samples as [ts, value] pairs). */
export function decodeMetricBatch(bytes: Uint8Array): DecodedBatch {
  const msg = wire.MetricBatch.decode(bytes);
  const series: SeriesInput[] = msg.series.map((s) => {
    const ts = (s.timestamps ?? []) as unknown as number[];
    const vs = s.values ?? [];
    if (ts.length !== vs.length) {
      throw new RangeError(`series ${s.service}/${s.metric}: ${ts.length} timestamps but ${vs.length} values`);
    }
    const samples: Array<[number, number]> = new Array(ts.length);
    for (let i = 0; i < ts.length; i++) samples[i] = [Number(ts[i]), vs[i]!];
    return { service: s.service ?? '', metric: s.metric ?? '', labels: { ...s.labels }, samples };
  });
  return { tenant: msg.tenant, series };
}

export function encodeMetricBatch(tenant: string, series: SeriesInput[]): Uint8Array {
  return wire.MetricBatch.encode({
    tenant,
    series: series.map((s) => ({
      service: s.service,
      metric: s.metric,
      labels: s.labels ?? {},
      timestamps: s.samples.map((p) => p[0]),
      values: s.samples.map((p) => p[1]),
    })),
  }).finish();
}

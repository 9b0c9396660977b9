// The one way to name a series. A series is (service, metric, labels); its name within a
// service is `metric{a="x",b="y"}`: labels sorted by name, values quoted with `\`, `"` and
// newlines escaped as Prometheus' text format does, so two different label sets never
// share a name (a value may hold `,` or `=`), and key order in the client's JSON is moot.
import type { Labels, SeriesKey } from './types.ts';

/** `{a="x",b="y"}`, or '' without labels. */
export function labelsName(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  names.sort();
  return `{${names.map((n) => `${n}="${escapeValue(labels[n]!)}"`).join(',')}}`;
}

/** The series' name within its service: `metric{...}`. */
export function seriesName(metric: string, labels: Labels): string {
  return metric + labelsName(labels);
}

/** The series' name within its tenant: service, NUL, seriesName (NUL cannot occur in a name). */
export function seriesId(key: SeriesKey): string {
  return `${key.service}\u0000${seriesName(key.metric, key.labels)}`;
}

function escapeValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

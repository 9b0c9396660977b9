// The one way to name a series. A series is (service, metric, labels); its name within a
// service is `metric{a="x",b="y"}`: labels sorted by name, values quoted with `\`, `"` and
// newlines escaped as Prometheus' text format does, so two different label sets never
// share a name (a value may hold `,` or `=`), and key order in the client's JSON is moot.
import type { Labels, SeriesKey } from './types.ts';

/** `{a="x",b="y"}`, or '' without labels. */
export function labelsName(labels: Labels): string {
  const names = sortedLabelNames(labels);
  if (names.length === 0) return '';
  // built by concatenation: a map and a join made two more arrays per series per batch
  let name = '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    name += (i === 0 ? '' : ',') + n + '="' + escapeValue(labels[n]!) + '"';
  }
  return name + '}';
}

/** Beyond this many labels Array.prototype.sort is the cheaper sort. */
const INSERTION_SORT_MAX = 16;

/**
 * The label names in code-unit order (Array.prototype.sort's default). A series' handful of
 * names is sorted in place by insertion: Array.prototype.sort allocated ~0.9 KB of working
 * state per call, and names are sorted per series per batch (series limits, detection, the
 * stores' rows, the checkpoint).
 */
export function sortedLabelNames(labels: Labels): string[] {
  const names = Object.keys(labels);
  if (names.length > INSERTION_SORT_MAX) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const n = names[i]!;
    let j = i - 1;
    while (j >= 0 && names[j]! > n) {
      names[j + 1] = names[j]!;
      j--;
    }
    names[j + 1] = n;
  }
  return names;
}

/** The series' name within its service: `metric{...}`. */
export function seriesName(metric: string, labels: Labels): string {
  return metric + labelsName(labels);
}

/** The series' name within its tenant: service, NUL, seriesName (NUL cannot occur in a name). */
export function seriesId(key: SeriesKey): string {
  return `${key.service}\u0000${seriesName(key.metric, key.labels)}`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeValue(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

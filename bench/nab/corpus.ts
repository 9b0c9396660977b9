// The NAB corpus on disk: data/<category>/<file>.csv plus combined_windows.json.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTimestamp, readSeries } from '../csv/index.ts';
import { labelRows, type LabelledRows } from './rows.ts';

export interface NabFile {
  /** relative path as in combined_windows.json, e.g. `realKnownCause/nyc_taxi.csv` */
  name: string;
  timestamps: number[];
  values: number[];
  windows: Array<[number, number]>;
  labels: LabelledRows;
}

export interface NabCorpus {
  files: NabFile[];
  /** every labelled window of these files (NAB's "perfect" detector hits each one) */
  labelledWindows: number;
}

export async function loadNabCorpus(root: string, only?: (name: string) => boolean): Promise<NabCorpus> {
  const raw = JSON.parse(await readFile(join(root, 'combined_windows.json'), 'utf8')) as Record<string, Array<[string, string]>>;
  const files: NabFile[] = [];
  let labelledWindows = 0;
  for (const category of (await readdir(join(root, 'data'))).sort()) {
    for (const file of (await readdir(join(root, 'data', category))).sort()) {
      if (!file.endsWith('.csv')) continue;
      const name = `${category}/${file}`;
      if (only && !only(name)) continue;
      const { timestamps, values } = await readSeries(join(root, 'data', category, file));
      const windows = (raw[name] ?? []).map(([a, b]) => [parseTimestamp(a), parseTimestamp(b)] as [number, number]);
      labelledWindows += windows.length;
      files.push({ name, timestamps, values, windows, labels: labelRows(timestamps, windows) });
    }
  }
  return { files, labelledWindows };
}

// Runs a streaming detector over every file of a corpus (fresh detector per file, rows in
// file order) and collects its scores for the NAB scorer.
import type { NabCorpus } from './corpus.ts';
import type { ScoredFile } from './sweep.ts';

export interface StreamingDetector {
  update(timestamp: number, value: number): number;
}

export function runDetector(corpus: NabCorpus, create: () => StreamingDetector): Array<ScoredFile & { name: string }> {
  return corpus.files.map((f) => {
    const d = create();
    const scores = new Float64Array(f.values.length);
    for (let i = 0; i < scores.length; i++) scores[i] = d.update(f.timestamps[i] as number, f.values[i] as number);
    return { name: f.name, scores, labels: f.labels };
  });
}

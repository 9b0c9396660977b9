// npm run bench:nab [-- --tier basic|agile|robust] [--json] [--detail] [--no-model] [--data DIR]
// Scores each detection tier on the NAB dev split with NAB's scoring (three profiles,
// threshold by the exact corpus-wide sweep) and prints it beside the published detectors.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDetector, enableRobustModel } from '../actors/detection/index.ts';
import { TIERS, type Tier } from '../protocols/types.ts';
import { breakdownFile, loadNabCorpus, PROFILE_NAMES, PROFILES, PUBLISHED_SPLIT, runDetector, scoreCorpus, type CorpusScore } from './nab/index.ts';

const here = dirname(fileURLToPath(import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const only = arg('--tier');
if (only !== undefined && !TIERS.includes(only as Tier)) {
  console.error(`bench:nab: --tier must be one of ${TIERS.join(', ')}`);
  process.exit(2);
}
const tiers: Tier[] = only ? [only as Tier] : [...TIERS];
const json = process.argv.includes('--json');
const detail = process.argv.includes('--detail');
const root = resolve(arg('--data') ?? resolve(here, '../../shared/data/nab'));

const corpus = await loadNabCorpus(root);
const rows = corpus.files.reduce((n, f) => n + f.values.length, 0);
console.log(`NAB dev split: ${corpus.files.length} files, ${rows} rows, ${corpus.labelledWindows} windows (${root})`);

// the Robust tier is measured as it runs: with its tfjs-trained residual model (inline
// training, so the run replays exactly); --no-model measures its statistical path (L1)
if (tiers.includes('robust') && !process.argv.includes('--no-model')) {
  const ml = await enableRobustModel();
  console.log(ml ? `robust: tfjs backend ${ml.backend} (learnt residual model on)` : 'robust: tfjs unavailable, statistical only (L1)');
}

const results: Partial<Record<Tier, CorpusScore>> = {};
for (const tier of tiers) {
  const started = performance.now();
  const files = runDetector(corpus, () => createDetector(tier));
  const seconds = (performance.now() - started) / 1000;
  const score = scoreCorpus(files, corpus.labelledWindows);
  results[tier] = score;
  const s = score.standard;
  console.log(`${tier}: ${seconds.toFixed(2)} s; standard threshold ${s.threshold.toFixed(4)}: ${s.tp} windows detected, ${s.fn} missed, ${s.fp} false-positive rows`);
  if (detail) {
    for (const f of files) {
      const b = breakdownFile(f, PROFILES.standard, s.threshold);
      console.log(`  ${f.name.padEnd(58)} detected ${b.detected} missed ${b.missed} fp ${String(b.fpRows).padStart(3)}  score ${(b.windows + b.falsePositives).toFixed(2)}`);
    }
  }
}

const table: Array<{ detector: string; figures: number[] }> = [
  ...tiers.map((t) => ({ detector: `vigil ${t}`, figures: PROFILE_NAMES.map((p) => (results[t] as CorpusScore)[p].normalised) })),
  ...PUBLISHED_SPLIT.map((r) => ({ detector: r.detector, figures: PROFILE_NAMES.map((p) => r[p]) })),
].sort((a, b) => (b.figures[0] as number) - (a.figures[0] as number));
console.log('');
console.log(`${'detector'.padEnd(20)}${PROFILE_NAMES.map((p) => p.padStart(20)).join('')}`);
for (const r of table) console.log(`${r.detector.padEnd(20)}${r.figures.map((x) => x.toFixed(1).padStart(20)).join('')}`);

if (json) {
  const out: Record<string, Record<string, number>> = {};
  for (const t of tiers) out[t] = Object.fromEntries(PROFILE_NAMES.map((p) => [p, Number((results[t] as CorpusScore)[p].normalised.toFixed(2))]));
  console.log(JSON.stringify(out));
}

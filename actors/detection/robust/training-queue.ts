// Training off the hot path: detectors whose model is due submit their batch of residual
// windows here instead of training inline; the host drains the queue when it has time
// (between mailbox turns, on a timer), training many series in one batched tfjs graph, and
// the weights land in each detector. Submitting costs a copy; the per-sample path never
// waits for tfjs. The price: when weights arrive depends on the host's timing, so a replay
// is exact only with inline training (the default) — snapshots still carry the weights.
import type { AutoencoderTrainer, AutoencoderWeights } from '../ml/index.ts';

export interface TrainingJob {
  batch: Float32Array;
  width: number;
  seed: number;
  install(weights: AutoencoderWeights): void;
  fail(): void;
}

export class TrainingQueue {
  private jobs: TrainingJob[] = [];

  constructor(private readonly trainer: AutoencoderTrainer) {}

  get pending(): number {
    return this.jobs.length;
  }

  submit(job: TrainingJob): void {
    this.jobs.push(job);
  }

  /** Trains up to `max` pending jobs (same-size batches together); returns how many ran. */
  drain(max = 512): number {
    const take = this.jobs.splice(0, max);
    const groups = new Map<string, TrainingJob[]>();
    for (const j of take) {
      const key = `${j.width}:${j.batch.length}`;
      const g = groups.get(key);
      if (g) g.push(j);
      else groups.set(key, [j]);
    }
    for (const group of groups.values()) {
      const width = (group[0] as TrainingJob).width;
      try {
        const weights = this.trainer.fitMany
          ? this.trainer.fitMany(
              group.map((j) => j.batch),
              width,
              group.map((j) => j.seed),
            )
          : group.map((j) => this.trainer.fit(j.batch, width, j.seed));
        group.forEach((j, i) => j.install(weights[i] as AutoencoderWeights));
      } catch {
        for (const j of group) j.fail();
      }
    }
    return take.length;
  }
}

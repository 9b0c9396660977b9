// How a node builds detectors: the tier registry with the node's sensitivity, the node's
// clock for Robust's inference time budget, and the tfjs model for Robust when any tenant
// uses that tier (trained off the hot path, a few series per tick).
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import type { DetectorFactory } from '../actors/service/index.ts';
import {
  createDetector, createRobustDetector, enableRobustModel, restoreDetector, restoreRobustDetector, type Sensitivity,
} from '../actors/detection/index.ts';
import type { VigilConfig } from './config.ts';

/** Series trained per drain tick: ~5 ms each, so a tick holds the event loop ~100 ms at most. */
export const TRAIN_PER_TICK = 16;
export const TRAIN_TICK_MS = 1_000;

export function tierDetectors(options: { sensitivity?: Sensitivity; clock?: Clock } = {}): DetectorFactory {
  const { sensitivity, clock } = options;
  const robust = clock ? { clock: () => clock.now() } : {};
  return {
    create: (tier, own) => {
      // the metric's own settings over the node's
      const s = own ? { ...sensitivity, ...own } : sensitivity;
      return tier === 'robust' ? createRobustDetector(s, robust) : createDetector(tier, s);
    },
    restore: (s) => (s.tier === 'robust' ? restoreRobustDetector(s, robust) : restoreDetector(s)),
  };
}

export function usesRobust(config: VigilConfig): boolean {
  if (config.detection.tier === 'robust') return true;
  return config.tenants.some((t) => t.tier === 'robust' || Object.values(t.metricTiers ?? {}).includes('robust'));
}

/** Loads tfjs and starts the training queue when needed; returns how to stop it. */
export async function startRobustModel(config: VigilConfig, clock: Clock, log: Logger): Promise<() => void> {
  if (!usesRobust(config)) return () => {};
  const enabled = await enableRobustModel({ log, schedule: 'queued' });
  const queue = enabled?.queue;
  if (!queue) return () => {};
  log.info({ backend: enabled.backend }, 'robust tier: residual model enabled');
  let timer: TimerHandle = clock.setTimeout(function drain() {
    try {
      queue.drain(TRAIN_PER_TICK);
    } catch (err) {
      log.warn({ err }, 'robust tier: training failed; detectors keep their statistical score');
    }
    timer = clock.setTimeout(drain, TRAIN_TICK_MS);
  }, TRAIN_TICK_MS);
  return () => clock.clearTimeout(timer);
}

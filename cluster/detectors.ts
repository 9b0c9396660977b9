// How a node builds detectors: the tier registry with the node's sensitivity, the node's
// clock for Robust's inference time budget, the node's ml_inference breaker (shared by every
// Robust detector: a failing model opens it and the node goes to L1) and its level (the model
// is held off while the node is at L1 or worse for another reason), and the tfjs model for
// Robust when any tenant uses that tier (trained off the hot path, a few series per tick).
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import type { Breaker, Level } from '../supervisors/index.ts';
import type { DetectorFactory } from '../actors/service/index.ts';
import {
  createDetector, createRobustDetector, enableRobustModel, restoreDetector, restoreRobustDetector, type Sensitivity,
} from '../actors/detection/index.ts';
import type { ResidualModel } from '../actors/detection/robust/index.ts';
import type { VigilConfig } from './config.ts';

/** Series trained per drain tick: ~5 ms each, so a tick holds the event loop ~100 ms at most. */
export const TRAIN_PER_TICK = 16;
export const TRAIN_TICK_MS = 1_000;

export interface TierDetectorOptions {
  sensitivity?: Sensitivity;
  clock?: Clock;
  /** the node's ml_inference breaker (absent: each Robust detector guards its model with its own) */
  modelBreaker?: Breaker;
  /** the node's level: the model runs only at L0, or while its own breaker is deciding (probes) */
  level?: () => Level;
}

export function tierDetectors(options: TierDetectorOptions = {}): DetectorFactory {
  const { sensitivity, clock, modelBreaker, level } = options;
  // At L1+ for another reason (an operator, a store) the model waits; while the breaker is not
  // closed the node is at L1 because of the model itself, and its probes must still run.
  const modelAllowed = level && (() => level() === 0 || (modelBreaker !== undefined && modelBreaker.state !== 'closed'));
  const robust = {
    ...(clock ? { clock: () => clock.now() } : {}),
    ...(modelBreaker ? { modelBreaker } : {}),
    ...(modelAllowed ? { modelAllowed } : {}),
  };
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

/**
 * Loads tfjs and starts the training queue when needed; returns how to stop it. `modelFault`
 * (the node's injected model fault) makes every model call throw while it returns an error,
 * so an injected fault meets the same guard and breaker as a real one.
 */
export async function startRobustModel(config: VigilConfig, clock: Clock, log: Logger, modelFault?: () => Error | undefined): Promise<() => void> {
  if (!usesRobust(config)) return () => {};
  const wrap = modelFault && ((model: ResidualModel): ResidualModel => ({
    error(window) {
      const err = modelFault();
      if (err) throw err;
      return model.error(window);
    },
  }));
  const enabled = await enableRobustModel({ log, schedule: 'queued', ...(wrap ? { wrap } : {}) });
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

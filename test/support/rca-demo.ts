// The demo's run as the RCA tests replay it (test/rca-demo.test.ts on the pure cores,
// test/rca-demo-actors.test.ts through the actors): its timing, and one seed's workload
// (48 h of fault-free history before the live part, the fault FAULT_AFTER into it).
import { SeededRng } from '../../actors/runtime/index.ts';
import { demoScenario } from '../../sim/index.ts';

export const HOUR = 3_600_000;
export const HISTORY_MS = 48 * HOUR; // the demo's default history; the first half is warm-up
export const BACKFILL_STEP = 10_000;
export const LIVE_STEP = 5_000;
export const FAULT_AFTER = 20_000;
export const WATCH_AFTER_FAULT = 3 * 60_000;

/** Seed `seed`'s run: a fixed live start per seed (spread over the day), its history and live workload, and the fault. */
export function demoRun(seed: number) {
  // The demo starts at wall-clock time; here each seed gets a fixed start.
  const liveFrom = Date.UTC(2026, 5, 1) + Math.round((seed * 137 * 60_000) / BACKFILL_STEP) * BACKFILL_STEP;
  const faultAt = liveFrom + FAULT_AFTER;
  const history = demoScenario({ rng: new SeededRng(seed), faultAt: Infinity }).workload;
  const { workload, fault } = demoScenario({ rng: new SeededRng(seed), faultAt });
  return { liveFrom, faultAt, history, workload, fault };
}

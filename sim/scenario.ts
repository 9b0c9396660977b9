// Ready-made scenarios. The demo: the web shop with one fault in the database, whose
// slowness reaches inventory, catalog, checkout and the frontend a hop at a time.
import type { Rng } from '../actors/runtime/index.ts';
import type { Fault } from './fault.ts';
import { SHOP_SERVICES } from './topology.ts';
import { Workload } from './workload.ts';

export interface DemoScenario {
  workload: Workload;
  fault: Fault;
}

export interface DemoOptions {
  rng: Rng;
  /** when the fault starts (Unix ms) */
  faultAt: number;
  /** how long it lasts (default 5 min) */
  faultDurationMs?: number;
  /** own latency × (1 + magnitude) in the database (default 5) */
  magnitude?: number;
}

export function demoScenario(o: DemoOptions): DemoScenario {
  const fault: Fault = {
    service: 'db', kind: 'latency', startMs: o.faultAt,
    durationMs: o.faultDurationMs ?? 5 * 60_000, magnitude: o.magnitude ?? 5, rampMs: 0,
  };
  return { workload: new Workload({ services: SHOP_SERVICES, faults: [fault], rng: o.rng }), fault };
}

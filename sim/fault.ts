// Faults injected into the simulated application: what breaks, when, and how hard.
export type FaultKind =
  /** the service's own work gets slower: own latency × (1 + magnitude) */
  | 'latency'
  /** the service fails more: + magnitude to its error rate (a fraction) */
  | 'errors';

export interface Fault {
  service: string;
  kind: FaultKind;
  /** Unix ms when it starts */
  startMs: number;
  /** how long it lasts (Infinity: until the end of the run) */
  durationMs: number;
  magnitude: number;
  /** the effect grows linearly over this long (0: a step) */
  rampMs?: number;
}

/** How much of the fault is in effect at `t`: 0 before and after, up to 1 at full strength. */
export function faultLevel(f: Fault, t: number): number {
  if (t < f.startMs || t >= f.startMs + f.durationMs) return 0;
  const ramp = f.rampMs ?? 0;
  return ramp > 0 ? Math.min(1, (t - f.startMs) / ramp) : 1;
}

/** Sum of `kind` faults on `service` at `t`, each scaled by its level. */
export function faultEffect(faults: readonly Fault[], service: string, kind: FaultKind, t: number): number {
  let sum = 0;
  for (const f of faults) if (f.service === service && f.kind === kind) sum += f.magnitude * faultLevel(f, t);
  return sum;
}

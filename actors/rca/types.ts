// The RCA core's vocabulary: what goes in (the tenant's call graph, the incident's
// symptoms, per-series evidence) and what comes out (services ranked with evidence).
import type { RcaCause, RcaEvidence, Topology } from '../../protocols/index.ts';

/** Degradation level the ranking runs at (DESIGN.md): causal, correlation-based, rule-based. */
export type RcaLevel = 'L0' | 'L1' | 'L2';
export const RCA_LEVELS: readonly RcaLevel[] = ['L0', 'L1', 'L2'];

/**
 * What one series says about the incident. Anomalous series have `score` >= the anomaly
 * bound (DEFAULT_ANOMALY_BOUND); quieter series may be passed too: their excess lets the
 * ranking tell whether a dependency accounts for its caller's trouble.
 */
export interface SeriesAnomaly {
  service: string;
  metric: string;
  /** anomaly evidence in [0, 1]: a calibrated detector score, or a squashed deviation */
  score: number;
  /** size of the departure in the series' own noise units (robust z), comparable across series */
  deviation: number;
  direction: 'up' | 'down';
  /** when the series first crossed the anomaly bound (Unix ms); absent if it never did */
  onset?: number;
  /** when the departure peaked (Unix ms) */
  peakAt: number;
  /** excess over the expected value on the harmful side, in the metric's unit: [ts, excess] */
  excess?: Array<[number, number]>;
}

/** Raw samples of one series around the incident (for the correlation-based level). */
export interface SeriesWindow {
  service: string;
  metric: string;
  samples: Array<[number, number]>;
}

export interface RcaInput {
  /** the tenant's services and what each calls (caller -> callee) */
  topology: Topology;
  /** services the incident's alerts are on: the symptoms the ranking must explain */
  alerts: string[];
  anomalies: SeriesAnomaly[];
  windows?: SeriesWindow[];
}

export interface RcaOptions {
  level?: RcaLevel;
  /** how many causes to return (default: every candidate) */
  limit?: number;
}

/** One metric's part in a cause's case (protocols' RcaEvidence: the API and stream carry it). */
export type CauseEvidence = RcaEvidence;

/** A ranked candidate (protocols' RcaCause). */
export type RankedCause = RcaCause;

export interface RcaResult {
  level: RcaLevel;
  /** how many services the alerts depend on (themselves included) */
  candidates: number;
  causes: RankedCause[];
}

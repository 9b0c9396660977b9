// actors/rca/: root-cause ranking. A pure core (no I/O, no actors): given the tenant's
// call graph, the incident's alerting services and per-series evidence, rank the services
// the alerts depend on, at degradation level L0 (causal), L1 (correlation) or L2 (rules).
// See README.md for the method, the constants and the figures on PetShop.
export { rankRootCauses } from './rank.ts';
export { RCA_LEVELS } from './types.ts';
export type { RcaLevel, RcaInput, RcaOptions, RcaResult, RankedCause, CauseEvidence, SeriesAnomaly, SeriesWindow } from './types.ts';
export {
  DEFAULT_ANOMALY_BOUND, DEFAULT_DEVIATION_BOUND, DEFAULT_DAMPING, DEFAULT_BACKWARD_WEIGHT, DEFAULT_DEVIATION_POWER,
} from './constants.ts';
export { squash } from './evidence.ts';
export { anomaliesFromEvents } from './events.ts';
export { judgeAroundIncident, judgeWindow, judgeProportion, baselineOf, DEFAULT_BASELINE_MS, DEFAULT_LEAD_MS, DEFAULT_MIN_BASELINE, DEFAULT_SCALE_FLOOR } from './baseline.ts';
export type { Baseline, WindowSeries, AroundIncident } from './baseline.ts';
export { pearson } from './correlated.ts';
// The PetShop benchmark's files (text in, no I/O) and one issue's ranking, for rca-eval.
export { parseGraph, parseMetrics, parseTarget, baselines, issueEvidence, rankIssue } from './petshop.ts';
export type { MetricsTable, IssueTarget, IssueOutcome } from './petshop.ts';
// The tenant's RCA: a pure core (debounce, which series to read, ranking an incident) and its actor.
export { TenantRca, DEFAULT_RCA_SETTINGS, DEFAULT_RCA_LIMIT, DEFAULT_MAX_SERIES_READS, DEFAULT_FOLLOW_MS, DEFAULT_LOOKBACK_MS, METHOD_OF } from './tenant-rca.ts';
export type { RcaSettings, SeriesRead, ReadSeries } from './tenant-rca.ts';
export { RcaSchedule, DEFAULT_RCA_QUIET_MS, DEFAULT_RCA_MAX_WAIT_MS } from './schedule.ts';
export type { ScheduleSettings } from './schedule.ts';
export { rcaBehavior } from './rca-actor.ts';
export type { RcaMsg, RcaDeps, RcaSource } from './rca-actor.ts';

// Circuit breaker parameters. The design (§1) fixes three per dependency: failures to open,
// successes in half-open to close, time open before half-open, plus what the caller falls back
// to meanwhile. The failure-rate window, the slow-call threshold and the probe limit are ours
// (resilience4j's model); their defaults are named below and explained in the README.
import { VigilError } from '../../protocols/index.ts';

export interface BreakerParams {
  /** consecutive failures (while closed) that open the circuit */
  failureThreshold: number;
  /** successful probe calls (while half-open) that close it again */
  successThreshold: number;
  /** how long it stays open before letting probe calls through */
  resetTimeoutMs: number;
  /** probe calls let through in one half-open spell (>= successThreshold) */
  halfOpenProbes?: number;
  /** failure rate (0..1] over the last `windowSize` calls that opens the circuit */
  failureRate?: number;
  /** count-based sliding window: the last N recorded calls (1..32, a bit each) */
  windowSize?: number;
  /** the rate is judged only once the window holds this many calls */
  minimumCalls?: number;
  /** a call slower than this counts as a failure (0: never) */
  slowCallMs?: number;
}

export type ResolvedBreakerParams = Readonly<Required<BreakerParams>>;

/** Half the recent calls failing is an outage, not noise (resilience4j's default too). */
export const DEFAULT_FAILURE_RATE = 0.5;
/** 20 calls: at one guarded call per batch, tens of seconds of history, one small integer. */
export const DEFAULT_WINDOW_SIZE = 20;
/** A rate over fewer than 10 calls says little (2 of 3 failing is not 66 %). */
export const DEFAULT_MINIMUM_CALLS = 10;
/** The window is a bit mask in one 32-bit integer. */
export const MAX_WINDOW_SIZE = 32;

export type BreakerDependency = 'ml_inference' | 'graph_db' | 'external_integrations';
export type BreakerFallback = 'statistical_detection' | 'cached_topology' | 'queue_for_retry';

export type NamedBreaker = Readonly<BreakerParams & { fallback: BreakerFallback }>;

// The design gives one number N to open; it binds both triggers: N failures in a row, or N
// of the last 2N calls (a window of 2N that must be full, rate 0.5), so an intermittent fault
// opens as surely as a hard one and a healthy-but-noisy dependency needs as much evidence.
// Slow-call thresholds: a batch of model inferences past 1 s, a topology query past 2 s and a
// webhook past 10 s mean the dependency is struggling even when it answers.
function named(failureThreshold: number, successThreshold: number, resetTimeoutMs: number, slowCallMs: number, fallback: BreakerFallback): NamedBreaker {
  const windowSize = Math.min(MAX_WINDOW_SIZE, 2 * failureThreshold);
  return Object.freeze({ failureThreshold, successThreshold, resetTimeoutMs, failureRate: 0.5, windowSize, minimumCalls: windowSize, slowCallMs, fallback });
}

export const BREAKERS: Readonly<Record<BreakerDependency, NamedBreaker>> = Object.freeze({
  ml_inference: named(5, 2, 30_000, 1_000, 'statistical_detection'),
  graph_db: named(3, 1, 60_000, 2_000, 'cached_topology'),
  external_integrations: named(10, 3, 120_000, 10_000, 'queue_for_retry'),
});

const RESOLVED = new WeakSet<object>();

/** Fills in the defaults and refuses nonsense with CONFIG_INVALID. Resolved params pass through (breakers share them). */
export function resolveBreakerParams(name: string, p: BreakerParams): ResolvedBreakerParams {
  if (RESOLVED.has(p)) return p as ResolvedBreakerParams;
  const windowSize = p.windowSize ?? DEFAULT_WINDOW_SIZE;
  const r: Required<BreakerParams> = {
    failureThreshold: p.failureThreshold,
    successThreshold: p.successThreshold,
    resetTimeoutMs: p.resetTimeoutMs,
    halfOpenProbes: p.halfOpenProbes ?? p.successThreshold,
    failureRate: p.failureRate ?? DEFAULT_FAILURE_RATE,
    windowSize,
    minimumCalls: p.minimumCalls ?? Math.min(DEFAULT_MINIMUM_CALLS, windowSize),
    slowCallMs: p.slowCallMs ?? 0,
  };
  const int = (v: number, lo: number, hi = Number.MAX_SAFE_INTEGER): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  const problems: string[] = [];
  if (!int(r.failureThreshold, 1)) problems.push('failureThreshold must be an integer >= 1');
  if (!int(r.successThreshold, 1)) problems.push('successThreshold must be an integer >= 1');
  if (!(r.resetTimeoutMs > 0) || !Number.isFinite(r.resetTimeoutMs)) problems.push('resetTimeoutMs must be > 0');
  if (!int(r.halfOpenProbes, r.successThreshold)) problems.push('halfOpenProbes must be an integer >= successThreshold');
  if (!(r.failureRate > 0 && r.failureRate <= 1)) problems.push('failureRate must be in (0, 1]');
  if (!int(r.windowSize, 1, MAX_WINDOW_SIZE)) problems.push(`windowSize must be an integer in 1..${MAX_WINDOW_SIZE}`);
  if (!int(r.minimumCalls, 1, r.windowSize)) problems.push('minimumCalls must be an integer in 1..windowSize');
  if (!(r.slowCallMs >= 0) || !Number.isFinite(r.slowCallMs)) problems.push('slowCallMs must be >= 0');
  if (problems.length > 0) throw new VigilError('CONFIG_INVALID', `breaker ${name}: ${problems.join('; ')}`);
  const frozen = Object.freeze(r);
  RESOLVED.add(frozen);
  return frozen;
}

const NAMED = new Map<BreakerDependency, ResolvedBreakerParams>();

/** The design's parameters for one kind of dependency, resolved (one shared object per kind). */
export function namedBreakerParams(dependency: BreakerDependency): ResolvedBreakerParams {
  let r = NAMED.get(dependency);
  if (!r) {
    const { fallback: _fallback, ...params } = BREAKERS[dependency];
    r = resolveBreakerParams(dependency, params);
    NAMED.set(dependency, r);
  }
  return r;
}

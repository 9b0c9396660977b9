// The decision a supervisor takes when a child crashes: restart whom, after how long, or
// give up and escalate. Pure (time comes in as `now`), so it is tested without actors and the
// runtime only hosts it.
//
// Counting follows Akka rather than strict OTP: under one_for_one each child has its own
// window (a tenant with thousands of services must not die because four different services
// each met one poisoned sample); under one_for_all / rest_for_one the children restart as a
// group, so the group shares one window.
import { VigilError } from '../protocols/index.ts';
import type { BackoffOptions, Strategy, SupervisionOptions } from '../actors/runtime/types.ts';
import { backoffDelay, resolveBackoff } from './backoff.ts';
import { DEFAULT_RESTART_INTENSITY, DEFAULT_RESTART_PERIOD_MS } from './defaults.ts';
import { RestartWindow } from './restart-window.ts';
import { STRATEGIES, restartTargets } from './strategy.ts';

export type RestartDecision =
  | { readonly action: 'restart'; readonly targets: string[]; readonly delayMs: number; readonly attempt: number }
  | { readonly action: 'escalate'; readonly restartsInPeriod: number };

/** SupervisionOptions with every default filled in and checked. */
export interface SupervisionPolicy {
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: BackoffOptions;
}

export function resolveSupervision(options: SupervisionOptions | undefined): SupervisionPolicy {
  const strategy = options?.strategy ?? 'one_for_one';
  const intensity = options?.intensity ?? DEFAULT_RESTART_INTENSITY;
  const periodMs = options?.periodMs ?? DEFAULT_RESTART_PERIOD_MS;
  if (!STRATEGIES.includes(strategy)) {
    throw new VigilError('CONFIG_INVALID', `unknown supervision strategy '${String(strategy)}'`);
  }
  if (!Number.isInteger(intensity) || intensity < 0) {
    throw new VigilError('CONFIG_INVALID', `restart intensity must be an integer >= 0 (got ${intensity})`);
  }
  if (!(periodMs > 0)) throw new VigilError('CONFIG_INVALID', `restart period must be > 0 ms (got ${periodMs})`);
  return { strategy, intensity, periodMs, backoff: resolveBackoff(options?.backoff) };
}

export class Supervisor {
  readonly policy: SupervisionPolicy;
  private readonly perChild = new Map<string, RestartWindow>();
  private group: RestartWindow;

  constructor(options?: SupervisionOptions) {
    this.policy = resolveSupervision(options);
    this.group = this.newWindow();
  }

  /** A child crashed at `now`; `children` are the live children in start order. */
  decide(crashed: string, now: number, children: readonly string[]): RestartDecision {
    const window = this.windowFor(crashed);
    const count = window.record(now);
    if (window.exceeded(count)) return { action: 'escalate', restartsInPeriod: count };
    return {
      action: 'restart',
      targets: restartTargets(this.policy.strategy, children, crashed),
      delayMs: backoffDelay(count, this.policy.backoff),
      attempt: count,
    };
  }

  /** Restarts counted against `child` (or the group) at `now`, for introspection. */
  restartsInPeriod(child: string, now: number): number {
    return this.windowFor(child).count(now);
  }

  /** The child is gone for good (stopped or passivated): drop its history. */
  forget(child: string): void {
    this.perChild.delete(child);
  }

  /** The supervisor itself restarted: history starts afresh. */
  reset(): void {
    this.perChild.clear();
    this.group = this.newWindow();
  }

  private windowFor(child: string): RestartWindow {
    if (this.policy.strategy !== 'one_for_one') return this.group;
    let w = this.perChild.get(child);
    if (!w) {
      w = this.newWindow();
      this.perChild.set(child, w);
    }
    return w;
  }

  private newWindow(): RestartWindow {
    return new RestartWindow(this.policy.intensity, this.policy.periodMs);
  }
}

// Sending a step's request (the retried, breaker-guarded delivery is the notifier's too:
// actors/notify/webhook-delivery.ts): every attempt through the destination's circuit breaker,
// the attempts under the external_webhook retry policy (DESIGN.md §1: 5 retries after 5, 10, 20,
// 40, 80 s; 30 s per attempt). One breaker per tenant and destination (scheme, host, port),
// with the external_integrations parameters (10 failures open it, half-open after 120 s, 3
// good probes close it): one tenant's broken receiver never holds back another tenant's runs,
// nor the same tenant's other receivers. The breaker's fallback is the queue: a run whose
// request meets an open circuit waits in that destination's queue (FIFO) and is released when
// the breaker lets calls through again (half-open: as many as it has probes; closed: all).
import type { Logger } from 'pino';
import type { Clock, Rng } from '../runtime/index.ts';
import { VigilError } from '../../protocols/index.ts';
import {
  BreakerRegistry, HttpStatusError, RETRY_POLICIES, isRetryable, type Breaker, type BreakerState, type RetryPolicy,
} from '../../supervisors/index.ts';
import { deliverWebhook } from '../notify/webhook-delivery.ts';
import type { SendRequest } from './http-client.ts';
import type { OutgoingRequest } from './run.ts';
import type { JsonValue } from './runbook.ts';

export type DeliveryOutcome =
  | { type: 'sent'; status: number; body?: JsonValue; attempts: number }
  | { type: 'failed'; error: string; status?: number; attempts: number }
  /** the destination's circuit is open: call `queue` to wait for it */
  | { type: 'held'; attempts: number; breaker: string; reason: string };

export interface DeliveriesOptions {
  clock: Clock;
  send: SendRequest;
  /** jitter for the exponential backoff (absent: the nominal 5, 10, 20, 40, 80 s) */
  rng?: Rng;
  policy?: RetryPolicy;
  /** where the breakers live (default: a registry of its own) */
  breakers?: BreakerRegistry;
  log?: Logger;
}

/** The prefix of every destination breaker's name: `external_integrations/<tenant>/<origin>`. */
export const DESTINATION_BREAKER = 'external_integrations';

interface Waiting {
  release: () => void;
}

export class Deliveries {
  readonly breakers: BreakerRegistry;
  private readonly policy: RetryPolicy;
  private readonly queues = new Map<string, Waiting[]>();

  constructor(private readonly o: DeliveriesOptions) {
    this.breakers = o.breakers ?? new BreakerRegistry(o.clock);
    this.policy = o.policy ?? RETRY_POLICIES.external_webhook;
  }

  /** The breaker guarding `url` for `tenant`, made on first use. */
  breakerFor(tenant: string, url: string): Breaker {
    const name = `${DESTINATION_BREAKER}/${tenant}/${new URL(url).origin}`;
    const found = this.breakers.get(name);
    if (found) return found;
    const b = this.breakers.create(name, 'external_integrations');
    b.onEvent((n) => {
      if (n.type === 'state') this.drain(name, b);
    });
    return b;
  }

  /**
   * Sends `req` with retries. Resolves with the outcome (never rejects): sent, failed (a
   * refusal, the retries spent, the deadline) or held (the circuit is open; nothing more sent).
   */
  async deliver(tenant: string, req: OutgoingRequest, signal?: AbortSignal): Promise<DeliveryOutcome> {
    const breaker = this.breakerFor(tenant, req.url);
    if (!breaker.allows()) return held(breaker, 0);
    const out = await deliverWebhook((attemptSignal) => this.o.send(req, attemptSignal), {
      clock: this.o.clock,
      ...(this.o.rng ? { rng: this.o.rng } : {}),
      breaker,
      policy: this.policy,
      ...(signal ? { cancel: signal } : {}),
      // a 3xx is the destination's answer (redirects are not followed): reported, not retried
      retryable: (err) => !(err instanceof HttpStatusError && err.status < 400) && isRetryable(err),
      onRetry: (i) => this.o.log?.debug({ tenant, url: originOf(req.url), attempt: i.attempt, delayMs: i.delayMs, err: String(i.error) }, 'runbook request: retrying'),
    });
    switch (out.type) {
      case 'sent':
        return out.answer.body === undefined
          ? { type: 'sent', status: out.answer.status, attempts: out.attempts }
          : { type: 'sent', status: out.answer.status, body: out.answer.body, attempts: out.attempts };
      case 'held':
        return held(breaker, out.attempts);
      default:
        return failed(out.error, out.attempts);
    }
  }

  /** Waits in the destination's queue until its breaker lets calls through; `release` is called once. */
  queue(tenant: string, url: string, release: () => void): () => void {
    const b = this.breakerFor(tenant, url);
    const name = b.name;
    const w: Waiting = { release };
    const list = this.queues.get(name) ?? [];
    list.push(w);
    this.queues.set(name, list);
    if (b.allows()) queueMicrotask(() => this.drain(name, b)); // it recovered meanwhile
    return () => {
      const l = this.queues.get(name);
      const i = l?.indexOf(w) ?? -1;
      if (i >= 0) l!.splice(i, 1);
    };
  }

  /** Runs waiting for each destination (for the API's view and /metrics). */
  queued(tenant?: string): number {
    let n = 0;
    for (const [name, list] of this.queues) if (tenant === undefined || name.startsWith(`${DESTINATION_BREAKER}/${tenant}/`)) n += list.length;
    return n;
  }

  /** A tenant's destination breakers and their states. */
  states(tenant: string): Record<string, BreakerState> {
    const prefix = `${DESTINATION_BREAKER}/${tenant}/`;
    const out: Record<string, BreakerState> = {};
    for (const [name, state] of Object.entries(this.breakers.states())) if (name.startsWith(prefix)) out[name.slice(prefix.length)] = state;
    return out;
  }

  stop(): void {
    this.queues.clear();
    if (!this.o.breakers) this.breakers.stop();
  }

  private drain(name: string, b: Breaker): void {
    const list = this.queues.get(name);
    if (!list || list.length === 0) return;
    const state: BreakerState = b.state;
    if (state === 'open' || state === 'forcedOpen') return;
    // half-open: only as many as it will let through as probes; the rest wait for it to close
    const n = state === 'halfOpen' ? Math.max(0, b.params.halfOpenProbes) : list.length;
    const out = list.splice(0, n);
    if (list.length === 0) this.queues.delete(name);
    for (const w of out) w.release();
  }
}

function held(b: Breaker, attempts: number): DeliveryOutcome {
  return { type: 'held', attempts, breaker: b.name, reason: `the destination's circuit breaker is ${b.state}: queued until it lets calls through` };
}

function failed(err: unknown, attempts: number): DeliveryOutcome {
  const last = err instanceof VigilError && err.cause !== undefined ? err.cause : err;
  const status = last instanceof HttpStatusError ? last.status : undefined;
  const lastText = last instanceof Error ? last.message : String(last);
  const error = err instanceof VigilError && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT') && last !== err
    ? `${err.message} (last: ${lastText})` : lastText;
  return status === undefined ? { type: 'failed', error, attempts } : { type: 'failed', error, status, attempts };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

// Delivers notices to the on-call and SRE webhooks (config notify.onCall, notify.sre): an HTTP
// POST of the notice as JSON, with the notice's id as Idempotency-Key (delivery is at least
// once). Every delivery (webhook-delivery.ts, shared with runbook steps) runs under the
// external_webhook retry policy (5 retries at 5, 10, 20, 40, 80 s, 30 s per attempt) and each
// attempt through the node's external_integrations breaker (10/3/120 s), whose fallback is the
// queue: a delivery refused by an open circuit, or whose retries are spent, goes back to the
// queue and is tried again REQUEUE_MS later. The queue is bounded; when full the oldest notice
// is dropped, counted and logged (a flood of alerts must not take the node's memory). A 4xx
// other than 408/425/429 is the receiver refusing this notice: it is dropped and logged, not
// retried, and the breaker counts it as an answer.
import type { Logger } from 'pino';
import type { Clock, Rng, TimerHandle } from '../runtime/index.ts';
import type { AnomalyEvent } from '../../protocols/index.ts';
import { HttpStatusError, type Breaker, type Level } from '../../supervisors/index.ts';
import { deliverWebhook } from './webhook-delivery.ts';
import { alertAudiences, alertsNotice, levelNotice, tellsSre, type AlertNotifier, type Audience, type Notice } from './notice.ts';

/** Notices waiting at most (memory bound). */
export const DEFAULT_NOTIFY_QUEUE = 10_000;
/** Deliveries in flight at once. */
export const NOTIFY_CONCURRENCY = 4;
/** When a delivery that failed for good (circuit open, retries spent) is tried again. */
export const REQUEUE_MS = 5_000;

export interface NotifyTargets {
  /** the on-call's webhook URL */
  onCall?: string;
  /** the SRE team's webhook URL */
  sre?: string;
}

/** Posts one body; rejects with an error carrying `status` on a non-2xx answer. */
export type PostJson = (url: string, body: string, headers: Record<string, string>, signal: AbortSignal) => Promise<void>;

export interface WebhookNotifierOptions {
  targets: NotifyTargets;
  clock: Clock;
  rng?: Rng;
  /** the node's external_integrations breaker (absent: unguarded) */
  breaker?: Breaker;
  log?: Logger;
  /** this node's id and its status page's URL (known once the gateway listens), for level notices */
  node: string;
  statusPage: () => string;
  maxQueue?: number;
  post?: PostJson;
}

export interface NotifyStats {
  queued: number;
  inFlight: number;
  delivered: number;
  refused: number;
  dropped: number;
  requeued: number;
}

interface Delivery {
  audience: Audience;
  url: string;
  notice: Notice;
  /** not before (clock ms) */
  at: number;
}

export const postJson: PostJson = async (url, body, headers, signal) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal });
  await res.arrayBuffer().catch(() => undefined); // free the connection
  if (!res.ok) throw new HttpStatusError(res.status, undefined, url);
};

export class WebhookNotifier implements AlertNotifier {
  private readonly queue: Delivery[] = [];
  private inFlight = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly counts = { delivered: 0, refused: 0, dropped: 0, requeued: 0 };
  private readonly idle: Array<() => void> = [];
  private readonly post: PostJson;
  private readonly maxQueue: number;

  constructor(private readonly o: WebhookNotifierOptions) {
    this.post = o.post ?? postJson;
    this.maxQueue = o.maxQueue ?? DEFAULT_NOTIFY_QUEUE;
  }

  passThrough(events: readonly AnomalyEvent[], level: Level): void {
    if (events.length === 0) return;
    const notice = alertsNotice(events, level);
    for (const who of alertAudiences(level)) this.enqueue(who, notice);
  }

  /** The node's level changed: the SRE team hears of L4 entered and left. */
  levelChanged(change: { from: Level; to: Level; at: number; cause: string; down: readonly string[] }): void {
    if (tellsSre(change)) this.enqueue('sre', levelNotice(this.o.node, change, this.o.statusPage()));
  }

  stats(): NotifyStats {
    return { queued: this.queue.length, inFlight: this.inFlight, ...this.counts };
  }

  /** Resolves when nothing is queued or in flight (tests, a clean stop). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueue(audience: Audience, notice: Notice): void {
    const url = audience === 'sre' ? this.o.targets.sre : this.o.targets.onCall;
    if (url === undefined || this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      const old = this.queue.shift()!;
      this.counts.dropped++;
      this.o.log?.error({ audience: old.audience, notice: old.notice.id }, 'notify queue full: oldest notice dropped');
    }
    this.queue.push({ audience, url, notice, at: this.o.clock.now() });
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    while (this.inFlight < NOTIFY_CONCURRENCY) {
      const i = this.queue.findIndex((d) => d.at <= now);
      if (i < 0) break;
      const [d] = this.queue.splice(i, 1);
      this.inFlight++;
      void this.deliver(d!).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
    const next = this.queue.reduce((m, d) => Math.min(m, d.at), Infinity);
    if (next !== Infinity && next > now && next < this.timerAt) {
      if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = this.o.clock.setTimeout(() => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      }, next - now);
    }
    if (this.queue.length === 0 && this.inFlight === 0) for (const r of this.idle.splice(0)) r();
  }

  private async deliver(d: Delivery): Promise<void> {
    const body = JSON.stringify(d.notice);
    const headers = { 'idempotency-key': d.notice.id };
    const out = await deliverWebhook((signal) => this.post(d.url, body, headers, signal), {
      clock: this.o.clock, ...(this.o.rng ? { rng: this.o.rng } : {}), ...(this.o.breaker ? { breaker: this.o.breaker } : {}),
    });
    if (out.type === 'sent') {
      this.counts.delivered++;
      return;
    }
    const { error: err } = out;
    if (out.type === 'refused') {
      this.counts.refused++;
      this.o.log?.error({ err, audience: d.audience, notice: d.notice.id }, 'webhook refused the notice: dropped');
      return;
    }
    // the circuit is open or the retries are spent: back to the queue (the breaker's fallback)
    this.counts.requeued++;
    this.o.log?.warn({ err, audience: d.audience, notice: d.notice.id }, 'notice not delivered yet: queued for retry');
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.counts.dropped++;
      return;
    }
    this.queue.push({ ...d, at: this.o.clock.now() + REQUEUE_MS });
  }
}

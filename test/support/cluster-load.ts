// A steady load for the cluster tests: `rate` samples/s spread over tenants × metrics (service
// `api`, metrics m0..), sent as protobuf batches to the nodes a test names, and a record of
// what was acknowledged (202) per series. Each series' samples are STEP_MS apart in data time
// (200 a second per series keeps data time at wall time). One request per tenant at a time,
// in order; a failed one (error, timeout, 5xx) is sent again with the same bytes (so the
// same batch id: the log keeps one copy) to the next node, until it is acknowledged, as a
// client that wants its data kept does. The longest time with no acknowledgement at all is
// kept (the "gap" a client saw).
import { encodeMetricBatch, type SeriesInput } from '../../protocols/index.ts';

export const STEP_MS = 5;
export const SERVICE = 'api';
/** A sample's value away from spikes: 100 ± 5, fixed by series and index. */
export function normalValue(series: string, k: number): number {
  let h = 2166136261;
  for (const c of `${series}#${k}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return 100 + ((h >>> 0) / 4294967296 - 0.5) * 10;
}

export interface LoadTenant {
  id: string;
  key: string;
}

export interface LoadOptions {
  tenants: LoadTenant[];
  metrics: number;
  /** samples per second over all series */
  rate: number;
  /** where to send; a tenant goes to one by its name, the next ones after a failure */
  targets(): string[];
  startTs: number;
  tickMs?: number;
  /** at most this many samples in one request (a backlog is sent in several) */
  maxBatch?: number;
  requestTimeoutMs?: number;
}

interface TenantState {
  tenant: LoadTenant;
  /** per metric: samples made and not yet in a request */
  pending: Array<Array<[number, number]>>;
  /** per metric: samples acknowledged (a prefix: requests go in order) */
  acked: number[];
  busy: boolean;
  /** consecutive failures of the request under way (picks the next node) */
  failures: number;
}

/** One acknowledged request: what it carried, where it was sent, and who answered 202. */
export interface AckedRequest {
  tenant: string;
  /** per metric: the timestamp of its first sample in the request, and how many (0: none) */
  from: number[];
  count: number[];
  /** every send of its bytes (Date.now(), the node's URL, the answer: 202, a status, or an error) */
  attempts: Array<{ at: number; url: string; outcome: string }>;
}

export interface LoadStats {
  made: number;
  acked: number;
  requests: number;
  failures: number;
  /** samples a node refused for good (4xx): never expected */
  refused: number;
  /** longest time with no acknowledgement, ms, and when it began (Date.now()) */
  longestGapMs: number;
  longestGapFrom: number;
  /** acknowledged samples per wall second since start (index: second) */
  perSecond: number[];
}

export class SteadyLoad {
  private readonly state: TenantState[];
  private readonly made: number[][];
  private readonly spikes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private generated = 0;
  private lastAck = 0;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats: LoadStats = { made: 0, acked: 0, requests: 0, failures: 0, refused: 0, longestGapMs: 0, longestGapFrom: 0, perSecond: [] };
  /** failed requests' reasons, newest last (at most 50) */
  readonly errors: string[] = [];
  /** every acknowledged request, in the order of their acknowledgements (what a lost sample is traced back to) */
  readonly journal: AckedRequest[] = [];

  constructor(private readonly o: LoadOptions) {
    this.state = o.tenants.map((tenant) => ({ tenant, pending: Array.from({ length: o.metrics }, () => []), acked: new Array<number>(o.metrics).fill(0), busy: false, failures: 0 }));
    this.made = o.tenants.map(() => new Array<number>(o.metrics).fill(0));
  }

  static seriesKey(tenant: string, metric: number): string {
    return `${tenant}/${SERVICE}/m${metric}`;
  }

  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    this.lastAck = this.startedAt;
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 100);
  }

  /** The next sample of the series takes `value`; returns its timestamp. */
  spike(tenant: string, metric: number, value: number): number {
    const t = this.o.tenants.findIndex((x) => x.id === tenant);
    const k = this.made[t]![metric]!;
    this.spikes.set(`${SteadyLoad.seriesKey(tenant, metric)}#${k}`, value);
    return this.tsOf(k);
  }

  /** Stops making samples; resolves once every one made is acknowledged (false: time ran out). */
  async stop(drainMs = 60_000): Promise<boolean> {
    this.running = false;
    clearInterval(this.timer);
    const until = Date.now() + drainMs;
    while (Date.now() < until) {
      for (const s of this.state) this.send(s);
      if (this.state.every((s) => !s.busy && s.pending.every((p) => p.length === 0))) return true;
      await Promise.race([...this.inFlight, new Promise((r) => setTimeout(r, 100))]);
    }
    return false;
  }

  /** Samples acknowledged per series key. */
  acked(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.state) s.acked.forEach((n, m) => out.set(SteadyLoad.seriesKey(s.tenant.id, m), n));
    return out;
  }

  /** The timestamp of a series' k-th sample. */
  tsOf(k: number): number {
    return this.o.startTs + k * STEP_MS;
  }

  /** Acknowledged samples per second over [fromS, toS) seconds after start. */
  rateBetween(fromS: number, toS: number): number {
    const slice = this.stats.perSecond.slice(fromS, toS);
    return slice.reduce((a, b) => a + (b ?? 0), 0) / Math.max(1, toS - fromS);
  }

  /** Seconds since start. */
  elapsedS(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  private tick(): void {
    if (!this.running) return;
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.o.rate) - this.generated;
    const series = this.o.tenants.length * this.o.metrics;
    for (let i = 0; i < due; i++) {
      const n = (this.generated + i) % series;
      const t = Math.floor(n / this.o.metrics);
      const m = n % this.o.metrics;
      const k = this.made[t]![m]!++;
      const key = SteadyLoad.seriesKey(this.o.tenants[t]!.id, m);
      const spike = this.spikes.get(`${key}#${k}`);
      this.state[t]!.pending[m]!.push([this.tsOf(k), spike ?? normalValue(key, k)]);
    }
    this.generated += Math.max(0, due);
    this.stats.made = this.generated;
    for (const s of this.state) this.send(s);
  }

  private send(s: TenantState): void {
    if (s.busy || s.pending.every((p) => p.length === 0)) return;
    const max = this.o.maxBatch ?? 5_000;
    const perMetric = Math.max(1, Math.floor(max / this.o.metrics));
    const taken = s.pending.map((p) => p.splice(0, perMetric));
    const series: SeriesInput[] = taken.flatMap((samples, m) => (samples.length > 0 ? [{ service: SERVICE, metric: `m${m}`, samples }] : []));
    const body = encodeMetricBatch(s.tenant.id, series);
    s.busy = true;
    const sent: AckedRequest = { tenant: s.tenant.id, from: taken.map((x) => x[0]?.[0] ?? 0), count: taken.map((x) => x.length), attempts: [] };
    const p = this.deliver(s, body, sent.attempts).then(() => {
      this.journal.push(sent);
      taken.forEach((samples, m) => { s.acked[m]! += samples.length; });
      const n = taken.reduce((a, b) => a + b.length, 0);
      const now = Date.now();
      this.stats.acked += n;
      const sec = Math.floor((now - this.startedAt) / 1000);
      this.stats.perSecond[sec] = (this.stats.perSecond[sec] ?? 0) + n;
      if (now - this.lastAck > this.stats.longestGapMs) {
        this.stats.longestGapMs = now - this.lastAck;
        this.stats.longestGapFrom = this.lastAck;
      }
      this.lastAck = now;
      s.busy = false;
      s.failures = 0;
      this.send(s);
    }, (err: unknown) => {
      // refused for good (a 4xx): the test's own mistake, counted so it fails
      this.stats.refused += taken.reduce((a, b) => a + b.length, 0);
      this.errors.push(String(err));
      s.busy = false;
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Sends `body` until a node acknowledges it (the same bytes each time: the same batch id). */
  private async deliver(s: TenantState, body: Uint8Array, attempts: AckedRequest['attempts']): Promise<void> {
    for (;;) {
      const targets = this.o.targets();
      if (targets.length > 0) {
        const url = targets[(hash(s.tenant.id) + s.failures) % targets.length]!;
        this.stats.requests++;
        const attempt = { at: Date.now(), url, outcome: 'no answer' };
        attempts.push(attempt);
        try {
          const res = await fetch(`${url}/v1/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${s.tenant.key}` },
            body,
            signal: AbortSignal.timeout(this.o.requestTimeoutMs ?? 15_000),
          });
          const text = await res.text();
          attempt.outcome = String(res.status);
          if (res.status === 202 || res.status === 200) return;
          this.failed(s, `${url}: ${res.status} ${text.slice(0, 200)}`);
          if (res.status < 500 && res.status !== 429) throw new Error(`batch refused: ${res.status} ${text}`);
        } catch (err) {
          if ((err as Error).message.startsWith('batch refused')) throw err;
          attempt.outcome = (err as Error).message;
          this.failed(s, `${url}: ${(err as Error).message}`);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private failed(s: TenantState, why: string): void {
    s.failures++;
    this.stats.failures++;
    this.errors.push(why);
    if (this.errors.length > 50) this.errors.shift();
  }
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h;
}

// Samples accepted (202) and not yet taken in by their ServiceActor, per tenant. Past a
// tenant's bound, its ingest answers 503 with Retry-After instead of letting the log lag
// and the mailboxes grow; other tenants are not held back by it. A request that alone
// exceeds the bound still passes when nothing of the tenant waits, so a large batch on an
// idle node is never refused forever.
import { VigilError } from '../protocols/index.ts';
import { IngestReceipt } from '../actors/tenant/index.ts';

export const DEFAULT_MAX_BACKLOG_SAMPLES = 2_000_000;

export class IngestBacklog {
  private readonly waiting = new Map<string, number>();
  private total = 0;
  /** tenants whose backlog reached its bound and has not yet fallen to half of it */
  private readonly pressed = new Set<string>();
  private pressure: ((tenant: string, full: boolean) => void) | undefined;

  /** `boundOf`: a tenant's own bound when it has one (a medium tenant's budget), else maxPerTenant */
  constructor(readonly maxPerTenant = DEFAULT_MAX_BACKLOG_SAMPLES, private readonly boundOf?: (tenant: string) => number | undefined) {}

  /** The bound of `tenant`'s backlog. */
  maxOf(tenant: string): number {
    return this.boundOf?.(tenant) ?? this.maxPerTenant;
  }

  /**
   * Counts `n` samples of `tenant` in, or throws UNAVAILABLE when the tenant's backlog is
   * full. The receipt gives them back exactly once (when taken in, or when the batch is lost).
   */
  admit(tenant: string, n: number): IngestReceipt {
    const now = this.waiting.get(tenant) ?? 0;
    if (now > 0 && now + n > this.maxOf(tenant)) {
      throw new VigilError('UNAVAILABLE', `tenant ${tenant} has ${now} samples waiting to be taken in; retry later`);
    }
    return this.count(tenant, n);
  }

  /**
   * Counts `n` samples of `tenant` in without refusing them: a batch read from the log was
   * accepted already (cluster mode: by whichever node took its request).
   */
  count(tenant: string, n: number): IngestReceipt {
    this.add(tenant, n);
    return new IngestReceipt(n, (k) => this.add(tenant, -k));
  }

  /**
   * `listener` hears when a tenant's backlog reaches its bound (true) and when it is back to
   * half of it (false): half, so a tenant at its bound is not announced on every batch.
   */
  onPressure(listener: (tenant: string, full: boolean) => void): void {
    this.pressure = listener;
  }

  /** Nothing more of this tenant fits: its request can be refused before the body is read. */
  full(tenant: string): boolean {
    return (this.waiting.get(tenant) ?? 0) >= this.maxOf(tenant);
  }

  /** Over all tenants (the node's gauge). */
  get size(): number {
    return this.total;
  }

  sizeOf(tenant: string): number {
    return this.waiting.get(tenant) ?? 0;
  }

  private add(tenant: string, n: number): void {
    const next = (this.waiting.get(tenant) ?? 0) + n;
    if (next === 0) this.waiting.delete(tenant);
    else this.waiting.set(tenant, next);
    this.total += n;
    if (!this.pressure) return;
    const pressed = this.pressed.has(tenant);
    if (!pressed && next >= this.maxOf(tenant)) {
      this.pressed.add(tenant);
      this.pressure(tenant, true);
    } else if (pressed && next <= this.maxOf(tenant) / 2) {
      this.pressed.delete(tenant);
      this.pressure(tenant, false);
    }
  }
}

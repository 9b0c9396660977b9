// The tenants a node serves, from two sources: the node config's `tenants:` list
// (vigil.yaml, VIGIL_DEMO_API_KEY) and the tenants file (config/tenants.yaml, which the
// admin API edits). They combine by id: a tenants-file entry replaces the node-config entry
// of the same id whole (keys included), so there is one place that says what a tenant is;
// node-config tenants without such an entry stay as they are (and keep no rate limit).
// A new set is checked whole (keys unique across both sources, none equal to the admin key)
// and swapped in at once, or refused with nothing changed.
import type { TenantConfig } from '../../cluster/index.ts';
import { TIERS } from '../../protocols/index.ts';
import { KeyRing, type KeyEntry } from '../keys.ts';
import { checkKeysUnique, TenancyInvalid } from './schema.ts';
import { sameSpec, type TenantSource, type TenantSpec } from './spec.ts';

export interface TenantView {
  spec: TenantSpec;
  source: TenantSource;
}

/** What changed between two sets, by tenant id, with each side's spec. */
export interface TenantsChange {
  added: TenantSpec[];
  changed: Array<{ before: TenantSpec; after: TenantSpec }>;
  removed: TenantSpec[];
}

/** A node-config tenant as a spec: no rate limit, every detection tier, its keys named by hash prefix. */
export function fromNodeConfig(t: TenantConfig): TenantSpec {
  const spec: TenantSpec = {
    id: t.id, tier: 'small', detectionTiers: [...TIERS], webhooks: [],
    keys: t.keyHashes.map((sha256) => ({ id: sha256.slice(0, 12), sha256 })),
  };
  if (t.tier !== undefined) spec.detectionTier = t.tier;
  if (t.metricTiers !== undefined) spec.metricTiers = t.metricTiers;
  if (t.metricSensitivity !== undefined) spec.metricSensitivity = t.metricSensitivity;
  if (t.metricLimits !== undefined) spec.metricLimits = t.metricLimits;
  if (t.maxSeries !== undefined) spec.maxSeries = t.maxSeries;
  if (t.maxServices !== undefined) spec.maxServices = t.maxServices;
  if (t.rawRetentionDays !== undefined) spec.rawRetentionDays = t.rawRetentionDays;
  return spec;
}

export class TenantRegistry {
  readonly keys: KeyRing;
  private readonly nodeTenants: Map<string, TenantSpec>;
  private fileTenants: TenantSpec[] = [];
  private effective = new Map<string, TenantView>();
  private listeners: Array<(change: TenantsChange) => void> = [];
  private versionNo = 0;

  constructor(private readonly config: { tenants: TenantConfig[]; auth: { adminKeyHash?: string } }, now: () => number = Date.now) {
    this.nodeTenants = new Map(config.tenants.map((t) => [t.id, fromNodeConfig(t)]));
    // the node config's keys are checked as the gateway always has (CONFIG_INVALID, the node does not start)
    this.keys = new KeyRing({ auth: config.auth, tenants: config.tenants }, now);
    this.setFileTenants([], 'startup');
  }

  /** Bumped on every applied change (GET /v1/admin/tenants shows it). */
  get version(): number {
    return this.versionNo;
  }

  get(id: string): TenantSpec | undefined {
    return this.effective.get(id)?.spec;
  }

  view(id: string): TenantView | undefined {
    return this.effective.get(id);
  }

  list(): TenantView[] {
    return [...this.effective.values()].sort((a, b) => (a.spec.id < b.spec.id ? -1 : 1));
  }

  /** The tenants file's entries, as the file holds them. */
  fromFile(): TenantSpec[] {
    return this.fileTenants.map((s) => structuredClone(s));
  }

  fromNodeConfig(id: string): boolean {
    return this.nodeTenants.has(id);
  }

  onChange(listener: (change: TenantsChange) => void): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  /**
   * Checks what `specs` as the tenants file's entries would make, without applying it;
   * throws TenancyInvalid (naming the place) when the combined set is refused.
   */
  check(specs: readonly TenantSpec[], source: string): Map<string, TenantView> {
    const next = new Map<string, TenantView>();
    for (const [id, spec] of this.nodeTenants) next.set(id, { spec, source: 'node-config' });
    for (const spec of specs) next.set(spec.id, { spec, source: 'tenants-file' });
    const entries = [...next.values()].map((v) => ({
      spec: v.spec,
      path: v.source === 'tenants-file' ? ['tenants', specs.indexOf(v.spec)] : ['node config tenant', v.spec.id],
    }));
    checkKeysUnique(entries, { source, line: () => undefined });
    const admin = this.config.auth.adminKeyHash?.toLowerCase();
    for (const { spec, path } of entries) {
      const j = spec.keys.findIndex((k) => k.sha256 === admin);
      if (j >= 0) throw new TenancyInvalid(`${path[0]}${typeof path[1] === 'number' ? `[${path[1]}]` : ` ${path[1]}`}.keys[${j}].sha256`, 'is the admin key', source);
    }
    return next;
  }

  /** Applies a new set of tenants-file entries (after check); tells the listeners what changed. */
  setFileTenants(specs: readonly TenantSpec[], source: string): TenantsChange {
    const next = this.check(specs, source);
    const keys: KeyEntry[] = [...next.values()].flatMap((v) => v.spec.keys.map((k) => ({
      tenant: v.spec.id, sha256: k.sha256, ...(k.expiresAt === undefined ? {} : { expiresAt: k.expiresAt }),
    })));
    this.keys.load(this.config.auth.adminKeyHash, keys);
    const change = diffTenants(this.effective, next);
    this.effective = next;
    this.fileTenants = specs.map((s) => structuredClone(s));
    this.versionNo++;
    for (const l of this.listeners) l(change);
    return change;
  }
}

/** What changes from one set of tenants to another. */
export function diffTenants(before: ReadonlyMap<string, TenantView>, after: ReadonlyMap<string, TenantView>): TenantsChange {
  const change: TenantsChange = { added: [], changed: [], removed: [] };
  for (const [id, v] of after) {
    const was = before.get(id);
    if (!was) change.added.push(v.spec);
    else if (!sameSpec(was.spec, v.spec)) change.changed.push({ before: was.spec, after: v.spec });
  }
  for (const [id, v] of before) if (!after.has(id)) change.removed.push(v.spec);
  return change;
}

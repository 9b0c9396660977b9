// Tenant configuration at run time: the registry, the tenants file behind it, and the
// audit log in front of every change. Changes come from the admin API or from the file
// (hot reload); they are applied one at a time. A change is checked whole first; an invalid
// one changes nothing and says why (the API answers 400; a reload keeps the old set and
// shows the reason as `lastReloadError`). No change is applied unless the audit log took it.
// In cluster mode the nodes share one text (shared.ts): an admin change is written there too,
// on the condition that it is still the version the change was made from (else it is made
// again on the newer one; a hand edit of the file likewise, replayed as the tenants it
// changed), and a text another node wrote is taken up like a reload of the file (and
// written to it).
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../actors/runtime/index.ts';
import type { TenantConfig } from '../../cluster/index.ts';
import { hashKey, VigilError } from '../../protocols/index.ts';
import { AUDIT_ACTIONS, type AuditRecord, type JsonValue } from '../../storage/audit/index.ts';
import { fileEdit, replayEdit, type TenantsFileEdit } from './file-edit.ts';
import { diffTenants, TenantRegistry, type TenantsChange } from './registry.ts';
import { MAX_KEYS_PER_TENANT, parseTenantsYaml } from './schema.ts';
import { sameSpec, type TenantSpec } from './spec.ts';
import type { SharedTenants, SharedTenantsEntry } from './shared.ts';
import { DEFAULT_RELOAD_DEBOUNCE_MS, readTenantsFile, tenantsYaml, watchTenantsFile, writeTenantsFile } from './tenants-file.ts';

export interface TenancyOptions {
  /** the node config's tenants and admin key */
  nodeConfig: { tenants: TenantConfig[]; auth: { adminKeyHash?: string } };
  /** config/tenants.yaml or wherever it is; absent: admin API changes live in memory only */
  file?: string;
  clock: Clock;
  log: Logger;
  /** where every change is recorded (the node's audit log) */
  audit?: { append(record: AuditRecord): Promise<unknown> };
  /** quiet time after a file event before it is read (default 250 ms) */
  debounceMs?: number;
  /** watch the file (default true when there is one) */
  watch?: boolean;
  /** the text a cluster's nodes share (cluster mode): taken up at open, followed, and written by admin changes */
  shared?: SharedTenants;
}

export interface ReloadError {
  /** ms since the epoch */
  at: number;
  message: string;
}

export interface RotatedKey {
  tenant: string;
  keyId: string;
  /** the new key in the clear: shown once, never stored */
  key: string;
  /** when the keys it replaces stop working */
  oldKeysExpireAt: number;
}

/** A default overlap of a rotation: long enough to redeploy every client once. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3600_000;

/** How many times an admin change is planned again on a newer shared text before it gives up. */
export const MAX_CHANGE_ATTEMPTS = 5;

export class Tenancy {
  readonly registry: TenantRegistry;
  lastReloadError: ReloadError | undefined;
  /** what `lastReloadError` is about: this node's file, or the cluster's text (`shared.where`) */
  private refused: string | undefined;
  private lastText: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopWatch: () => void = () => undefined;
  private stopShared: () => void = () => undefined;
  /** the shared text's revision this node holds (its own writes included) */
  private sharedRevision = 0;

  private constructor(private readonly o: TenancyOptions) {
    this.registry = new TenantRegistry(o.nodeConfig, () => o.clock.now());
  }

  /** Opens the tenants file; an invalid file at start is a CONFIG_INVALID (the node does not start). */
  static async open(o: TenancyOptions): Promise<Tenancy> {
    const t = new Tenancy(o);
    if (o.file === undefined) return t;
    const text = await readTenantsFile(o.file).catch((err: unknown) => {
      throw new VigilError('CONFIG_INVALID', `config error: cannot read ${o.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    });
    if (text === undefined) {
      o.log.warn({ file: o.file }, 'tenants file absent: starting with the node config\'s tenants; the admin API creates it');
    } else {
      try {
        t.registry.setFileTenants(parseTenantsYaml(text, o.file), o.file);
      } catch (err) {
        throw new VigilError('CONFIG_INVALID', `config error: ${(err as Error).message}`, { cause: err });
      }
      t.lastText = text;
    }
    if (o.shared) await t.share(o.shared);
    if (o.watch ?? true) t.stopWatch = watchTenantsFile(o.file, o.clock, o.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS, () => void t.reload());
    return t;
  }

  get file(): string | undefined {
    return this.o.file;
  }

  close(): void {
    this.stopWatch();
    this.stopShared();
  }

  /** Reads the file again; resolves true when a new set was applied. Never throws. */
  reload(): Promise<boolean> {
    return this.serial(async () => {
      const file = this.o.file;
      if (file === undefined) return false;
      let text: string | undefined;
      try {
        text = await readTenantsFile(file);
        if (text === undefined) throw new VigilError('CONFIG_INVALID', `${file}: the file is gone; keeping the tenants it had`);
        // a file being written in place is empty between its truncation and its write (a stalled
        // writer, a tool writing in pieces): read then, it would remove every tenant and key
        if (isBlankYaml(text)) throw new VigilError('CONFIG_INVALID', `${file}: the file is empty (truncated, or a write under way); keeping the tenants it had (to remove every tenant, write "tenants: []")`);
      } catch (err) {
        return this.refuse(file, err);
      }
      if (text === this.lastText) {
        // our own write, a touch, or a file put back as it was after a refused one: what is read
        // is what serves, so an earlier error of the file is over (a refused cluster text is not:
        // the read may be of a write made before it came)
        if (this.refused === file) this.clearError();
        return false;
      }
      const held = this.registry.fromFile();
      const actor = `file:${basename(file)}`;
      const applied = await this.take(text, file, actor);
      if (applied && this.o.shared) await this.publish(this.o.shared, text, file, () => fileEdit(held, this.registry.fromFile()), actor);
      return applied;
    });
  }

  /**
   * A hand edit of this node's file, taken here, goes to the cluster's text, so every node
   * follows it as it follows an admin change. It is written only over the version this node
   * held when it took the edit; when another node changed the text meanwhile, this node takes
   * that version up and replays on it what the edit changed (its tenants put or removed), as
   * an admin change is made again, so neither is lost. Failing that, `lastReloadError` says
   * what this node serves and why.
   */
  private async publish(shared: SharedTenants, text: string, file: string, edit: () => TenantsFileEdit, actor: string): Promise<void> {
    try {
      const written = await shared.replace(text, this.sharedRevision);
      if (written !== undefined) {
        this.sharedRevision = Math.max(this.sharedRevision, written);
        return;
      }
    } catch (err) {
      this.failedPublish(file, `the cluster's tenants (${shared.where}) did not take it (${(err as Error).message}); this node alone serves it; save the file again or make the change through the admin API`, err);
      return;
    }
    const changed = edit();
    try {
      await this.catchUp(shared);
      await this.changeNow(actor, () => [replayEdit(this.registry.fromFile(), changed), undefined]);
      this.o.log.info({ from: file, put: changed.put.map((s) => s.id), removed: changed.removed }, 'tenants file edit replayed on a newer cluster text');
    } catch (err) {
      this.failedPublish(file, `another node changed the cluster's tenants (${shared.where}) at the same time, and the edit could not be replayed on that version (${(err as Error).message}); make the change again (GET /v1/admin/tenants shows what this node serves)`, err);
    }
  }

  private failedPublish(file: string, why: string, err: unknown): void {
    const message = `${file} was not applied to the cluster: ${why}`;
    this.showError(file, message);
    this.o.log.error({ from: file, err }, message);
  }

  /** Takes up the cluster's text (the latest admin change of any node wins over this node's file) and follows it. */
  private async share(shared: SharedTenants): Promise<void> {
    let latest: SharedTenantsEntry | undefined;
    try {
      latest = await shared.read();
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `cannot read the cluster's tenants (${shared.where}): ${(err as Error).message}`, { cause: err });
    }
    if (latest) await this.adopt(latest, shared.where);
    this.stopShared = shared.watch((entry) => void this.adopt(entry, shared.where));
  }

  /** A text written to the shared place: applied unless this node holds it or a newer one already. Never throws. */
  private adopt(entry: SharedTenantsEntry, where: string): Promise<boolean> {
    return this.serial(() => this.adoptNow(entry, where));
  }

  private async adoptNow(entry: SharedTenantsEntry, where: string): Promise<boolean> {
    if (entry.revision <= this.sharedRevision) return false; // our own write coming back, or older than what we hold
    this.sharedRevision = entry.revision;
    if (entry.text === this.lastText) return false;
    // written to the file too, so a restart without the cluster starts from it
    return this.take(entry.text, where, 'cluster', this.o.file);
  }

  /** Applies a whole text from `origin` (a file or the cluster): checked first, audited, then set. Never throws. */
  private async take(text: string, origin: string, actor: string, writeTo?: string): Promise<boolean> {
    try {
      const specs = parseTenantsYaml(text, origin);
      this.registry.check(specs, origin);
      await this.record(this.preview(specs), actor);
      if (writeTo !== undefined) await writeTenantsFile(writeTo, text);
      this.registry.setFileTenants(specs, this.o.file ?? origin);
      this.lastText = text;
      this.clearError();
      this.o.log.info({ from: origin, version: this.registry.version }, 'tenants reloaded');
      return true;
    } catch (err) {
      return this.refuse(origin, err);
    }
  }

  private refuse(origin: string, err: unknown): false {
    const message = (err as Error).message;
    this.showError(origin, message);
    this.o.log.error({ from: origin, reason: message }, 'tenants refused: keeping the previous tenants');
    return false;
  }

  private showError(origin: string, message: string): void {
    this.lastReloadError = { at: this.o.clock.now(), message };
    this.refused = origin;
  }

  private clearError(): void {
    this.lastReloadError = undefined;
    this.refused = undefined;
  }

  /** PUT /v1/admin/tenants: the tenants file's entries, all of them. */
  async replaceAll(specs: TenantSpec[], actor: string): Promise<TenantsChange> {
    return (await this.change(actor, () => [specs, undefined]))[0];
  }

  /** PUT /v1/admin/tenants/:id: whether the tenant is new. */
  async put(spec: TenantSpec, actor: string): Promise<{ created: boolean }> {
    return (await this.change(actor, () => {
      const created = this.registry.get(spec.id) === undefined;
      return [[...this.registry.fromFile().filter((s) => s.id !== spec.id), spec], { created }];
    }))[1];
  }

  /** DELETE /v1/admin/tenants/:id. A node-config tenant cannot be deleted here (CONFLICT). */
  async remove(id: string, actor: string): Promise<void> {
    await this.change(actor, () => {
      const specs = this.registry.fromFile();
      const inFile = specs.some((s) => s.id === id);
      if (this.registry.fromNodeConfig(id)) {
        throw new VigilError('CONFLICT', `tenant ${id} is defined in the node config (vigil.yaml tenants or VIGIL_DEMO_API_KEY); remove it there`
          + (inFile ? ' (its tenants-file entry overrides it; PUT the tenant to change it)' : ''));
      }
      if (!inFile) throw new VigilError('NOT_FOUND', `no tenant ${id}`);
      return [specs.filter((s) => s.id !== id), undefined];
    });
  }

  /**
   * Adds a new key to a tenant and gives its other keys an end `overlapMs` from now (keys
   * already ending sooner keep their end; keys already expired are dropped). Both work
   * until then, so clients move to the new key without a failed request.
   */
  async rotateKey(id: string, overlapMs: number, actor: string, keyId?: string): Promise<RotatedKey> {
    return (await this.change(actor, () => {
      const now = this.o.clock.now();
      const spec = this.registry.get(id);
      if (!spec) throw new VigilError('NOT_FOUND', `no tenant ${id}`);
      // A key must be unguessable: crypto randomness, never the node's seeded Rng.
      const key = `vk_${randomBytes(32).toString('base64url')}`;
      const name = keyId ?? `key-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}`;
      if (spec.keys.some((k) => k.id === name)) throw new VigilError('CONFLICT', `tenant ${id} already has a key named ${name}`);
      const oldKeysExpireAt = now + overlapMs;
      const next: TenantSpec = structuredClone(spec);
      next.keys = spec.keys
        .filter((k) => k.expiresAt === undefined || k.expiresAt > now)
        .map((k) => ({ ...k, expiresAt: Math.min(k.expiresAt ?? Infinity, oldKeysExpireAt) }));
      next.keys.push({ id: name, sha256: hashKey(key) });
      if (next.keys.length > MAX_KEYS_PER_TENANT) {
        throw new VigilError('CONFLICT', `tenant ${id} would have ${next.keys.length} keys (at most ${MAX_KEYS_PER_TENANT}); wait for the old ones to expire or remove some`);
      }
      return [[...this.registry.fromFile().filter((s) => s.id !== id), next], { tenant: id, keyId: name, key, oldKeysExpireAt }];
    }))[1];
  }

  /**
   * One admin change: `plan` makes the new entries from the ones this node holds. In cluster
   * mode the write to the shared text is conditional on the version the plan was made from;
   * when another node changed it meanwhile, this node takes that version up and plans again,
   * so two changes at the same moment on two nodes both land (one after the other).
   */
  private change<T>(actor: string, plan: () => [TenantSpec[], T]): Promise<[TenantsChange, T]> {
    return this.serial(() => this.changeNow(actor, plan));
  }

  private async changeNow<T>(actor: string, plan: () => [TenantSpec[], T]): Promise<[TenantsChange, T]> {
    for (let attempt = 1; ; attempt++) {
      const [specs, result] = plan();
      const change = await this.apply(specs, actor);
      if (change !== undefined) return [change, result];
      const shared = this.o.shared as SharedTenants; // only a shared text moves under a change
      if (attempt === MAX_CHANGE_ATTEMPTS) {
        throw new VigilError('UNAVAILABLE', `the cluster's tenants (${shared.where}) changed under this change ${attempt} times; nothing changed, try again`);
      }
      await this.catchUp(shared);
    }
  }

  /** After a conditional write lost: the shared text as it is now, taken up here. */
  private async catchUp(shared: SharedTenants): Promise<void> {
    let latest: SharedTenantsEntry | undefined;
    try {
      latest = await shared.read();
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `cannot read the cluster's tenants (${shared.where}): ${(err as Error).message}; nothing changed`, { cause: err });
    }
    if (latest) await this.adoptNow(latest, shared.where);
    else this.sharedRevision = 0; // the key was deleted: the next write creates it
  }

  /** Applies the entries; undefined when the shared text moved on since this node's version (nothing changed). */
  private async apply(specs: TenantSpec[], actor: string): Promise<TenantsChange | undefined> {
    this.registry.check(specs, 'body'); // throws BAD_REQUEST naming the place
    const change = this.preview(specs);
    const { file, shared } = this.o;
    const before = this.lastText;
    const text = tenantsYaml(specs, `Written by the Vigil admin API (${actor}) at ${new Date(this.o.clock.now()).toISOString()}.`);
    const undoFile = async (): Promise<void> => {
      this.lastText = before;
      if (file !== undefined && before !== undefined) await writeTenantsFile(file, before).catch(() => undefined);
    };
    if (file !== undefined) {
      await writeTenantsFile(file, text).catch((err: unknown) => {
        throw new VigilError('UNAVAILABLE', `cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); nothing changed`);
      });
    }
    this.lastText = text; // the watcher will see our own write and skip it
    let written: number | undefined;
    if (shared) {
      // the other nodes take it from there; failing here, no node changed
      try {
        written = await shared.replace(text, this.sharedRevision);
      } catch (err) {
        await undoFile();
        throw new VigilError('UNAVAILABLE', `the cluster's tenants (${shared.where}) did not take the change (${(err as Error).message}); nothing changed`, { cause: err });
      }
      if (written === undefined) {
        await undoFile();
        return undefined;
      }
      this.sharedRevision = Math.max(this.sharedRevision, written);
    }
    try {
      await this.record(change, actor);
    } catch (err) {
      await undoFile();
      // the other nodes go back too (they follow the shared text), unless a newer change came meanwhile
      if (shared && written !== undefined && before !== undefined) {
        await shared.replace(before, written).then((r) => { this.sharedRevision = Math.max(this.sharedRevision, r ?? 0); }, () => undefined);
      }
      throw new VigilError('UNAVAILABLE', `the audit log did not take the change (${(err as Error).message}); nothing changed`, { cause: err });
    }
    return this.registry.setFileTenants(specs, file ?? 'admin API');
  }

  /** What applying these entries would change (nothing is applied). */
  private preview(specs: TenantSpec[]): TenantsChange {
    const before = new Map(this.registry.list().map((v) => [v.spec.id, v]));
    return diffTenants(before, this.registry.check(specs, 'preview'));
  }

  /** One audit entry per tenant changed; resolves when all are on disk. */
  private async record(change: TenantsChange, actor: string): Promise<void> {
    const audit = this.o.audit;
    if (!audit) return;
    const entries: AuditRecord[] = [
      ...change.added.map((s) => entry(s.id, actor, null, s)),
      ...change.changed.map((c) => entry(c.after.id, actor, c.before, c.after)),
      ...change.removed.map((s) => entry(s.id, actor, s, null)),
    ];
    await Promise.all(entries.map((e) => audit.append(e)));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function entry(tenant: string, actor: string, before: TenantSpec | null, after: TenantSpec | null): AuditRecord {
  const keysOnly = before !== null && after !== null && sameSpec({ ...before, keys: [] }, { ...after, keys: [] });
  return {
    tenant, actor, target: `tenant/${tenant}`,
    action: keysOnly ? AUDIT_ACTIONS.tenantKeyChange : AUDIT_ACTIONS.configChange,
    before: before && auditView(before), after: after && auditView(after),
  };
}

/** A spec as the audit log keeps it: key hashes cut to the prefix that names them. */
function auditView(spec: TenantSpec): JsonValue {
  const keys = spec.keys.map((k) => ({ id: k.id, sha256: k.sha256.slice(0, 12), ...(k.expiresAt === undefined ? {} : { expiresAt: k.expiresAt }) }));
  return JSON.parse(JSON.stringify({ ...spec, keys })) as JsonValue;
}

/** Nothing but blank lines and comments: no document at all. */
function isBlankYaml(text: string): boolean {
  return text.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('#'));
}

// A hand edit of the tenants file, as the tenants it changed. In cluster mode an edit made
// from one version of the shared text may reach it after another node changed it; replaying
// only what the edit changed on top of the newer text keeps both (the edit wins for the
// tenants it touched, as the later admin change does). Pure: no I/O.
import { sameSpec, type TenantSpec } from './spec.ts';

export interface TenantsFileEdit {
  /** tenants the edit added or changed, as the edit left them */
  readonly put: readonly TenantSpec[];
  /** ids of tenants the edit removed */
  readonly removed: readonly string[];
}

/** What changed from `before` (the entries the node held) to `after` (the entries of the edited file). */
export function fileEdit(before: readonly TenantSpec[], after: readonly TenantSpec[]): TenantsFileEdit {
  const old = new Map(before.map((s) => [s.id, s]));
  const kept = new Set(after.map((s) => s.id));
  return {
    put: after.filter((s) => { const o = old.get(s.id); return o === undefined || !sameSpec(o, s); }),
    removed: before.filter((s) => !kept.has(s.id)).map((s) => s.id),
  };
}

/** `entries` with the edit replayed on them: its tenants put (in place, or appended), its removals removed. */
export function replayEdit(entries: readonly TenantSpec[], edit: TenantsFileEdit): TenantSpec[] {
  const put = new Map(edit.put.map((s) => [s.id, s]));
  const gone = new Set(edit.removed);
  const out = entries.filter((s) => !gone.has(s.id)).map((s) => put.get(s.id) ?? s);
  const present = new Set(out.map((s) => s.id));
  return [...out, ...edit.put.filter((s) => !present.has(s.id))];
}

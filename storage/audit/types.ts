// The audit log's face: who did what to which thing, when, with the state before and after.
// Append and read only: there is deliberately no way to change or remove an entry.
import { VigilError } from '../../protocols/index.ts';
import type { JsonValue, Page } from '../../protocols/index.ts';

export type { JsonValue };

/** What a caller records. */
export interface AuditRecord {
  /** the tenant acted on; null for node-level actions (config reload, actor restart) */
  tenant: string | null;
  /** who: "admin", or an API key's id / hash prefix; never a key itself */
  actor: string;
  /** what, as `area.verb`: see AUDIT_ACTIONS */
  action: string;
  /** which thing: an incident id, an actor path, a config key, "topology" */
  target: string;
  before?: JsonValue;
  after?: JsonValue;
}

/** A stored entry: numbered, timed, and chained to the one before by its hash. */
export interface AuditEntry {
  seq: number;
  /** ms since the epoch, from the injected clock; never less than the entry before's */
  at: number;
  tenant: string | null;
  actor: string;
  action: string;
  target: string;
  before: JsonValue;
  after: JsonValue;
  /** the previous entry's hash (GENESIS_HASH for the first) */
  prev: string;
  /** sha256 of this entry's fields and `prev` */
  hash: string;
}

export interface AuditQuery {
  /** a tenant's entries; null: node-level entries only; absent: all (admin) */
  tenant?: string | null;
  /** inclusive bounds on `at` */
  from?: number;
  to?: number;
  limit?: number;
  cursor?: string;
}

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; seq: number; reason: string };

export interface AuditLog {
  /** Resolves with the stored entry once it is on disk (fsync; appends share one). */
  append(record: AuditRecord): Promise<AuditEntry>;
  /** Newest first, paged by a keyset cursor. */
  list(query: AuditQuery): Promise<Page<AuditEntry>>;
  /** Re-reads the log from disk and checks every hash and link. */
  verify(): Promise<AuditVerification>;
  /** The newest entry's seq and hash (0 and GENESIS_HASH when empty): record it elsewhere to anchor the chain. */
  head(): { seq: number; hash: string };
  close(): Promise<void>;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The actions Vigil records; others may be added as `area.verb`. */
export const AUDIT_ACTIONS = Object.freeze({
  incidentAck: 'incident.ack',
  incidentResolve: 'incident.resolve',
  topologyReplace: 'topology.replace',
  configChange: 'config.change',
  tenantKeyChange: 'tenant.key_change',
  actorRestart: 'admin.restart',
  backupCreate: 'admin.backup_create',
  backupRestore: 'admin.backup_restore',
});

export const MAX_AUDIT_TEXT = 1_000;
/** before and after, each, as JSON */
export const MAX_AUDIT_VALUE_BYTES = 64 * 1024;
const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Checks a record and gives back its fields as they will be stored. */
export function checkRecord(r: AuditRecord): Omit<AuditEntry, 'seq' | 'at' | 'prev' | 'hash'> {
  const bad = (msg: string): never => { throw new VigilError('BAD_REQUEST', `audit: ${msg}`); };
  if (r.tenant !== null && !(typeof r.tenant === 'string' && r.tenant.length > 0 && r.tenant.length <= MAX_AUDIT_TEXT)) {
    bad('tenant must be null or a non-empty string');
  }
  for (const field of ['actor', 'target'] as const) {
    const v = r[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_AUDIT_TEXT) bad(`${field} must be a string of 1..${MAX_AUDIT_TEXT} characters`);
  }
  if (typeof r.action !== 'string' || !ACTION_PATTERN.test(r.action) || r.action.length > 100) {
    bad(`action must look like "area.verb" (got ${JSON.stringify(r.action)})`);
  }
  return { tenant: r.tenant, actor: r.actor, action: r.action, target: r.target, before: checkValue('before', r.before), after: checkValue('after', r.after) };
}

function checkValue(field: string, v: JsonValue | undefined): JsonValue {
  if (v === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    throw new VigilError('BAD_REQUEST', `audit: ${field} is not JSON`, { cause: err });
  }
  if (text === undefined) throw new VigilError('BAD_REQUEST', `audit: ${field} is not JSON`);
  if (Buffer.byteLength(text) > MAX_AUDIT_VALUE_BYTES) {
    throw new VigilError('BAD_REQUEST', `audit: ${field} is larger than ${MAX_AUDIT_VALUE_BYTES} bytes as JSON`);
  }
  // Stored as it reads back: what was given and what a reader gets are the same value.
  return JSON.parse(text) as JsonValue;
}

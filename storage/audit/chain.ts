// One audit entry per line. The line is the entry's JSON with its hash as the last field;
// the hash is sha256 of the same line without that field, whose `prev` names the entry
// before. Checking works on the bytes as written, not on a re-serialisation.
import { createHash } from 'node:crypto';
import type { AuditEntry } from './types.ts';

const HASH_FIELD = ',"hash":"';
/** `,"hash":"` + 64 hex + `"}` */
const HASH_SUFFIX_LENGTH = HASH_FIELD.length + 64 + 2;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The line (without its newline) for an entry whose hash is still to be computed. */
export function sealLine(entry: Omit<AuditEntry, 'hash'>): { line: string; hash: string } {
  const body = JSON.stringify({
    seq: entry.seq, at: entry.at, tenant: entry.tenant, actor: entry.actor, action: entry.action,
    target: entry.target, before: entry.before, after: entry.after, prev: entry.prev,
  });
  const hash = sha256(body);
  return { line: `${body.slice(0, -1)}${HASH_FIELD}${hash}"}`, hash };
}

export type LineCheck = { ok: true; entry: AuditEntry } | { ok: false; reason: string };

/** Parses a line; with `checkHash`, also recomputes its hash from the bytes. */
export function readLine(line: string, checkHash: boolean): LineCheck {
  let entry: AuditEntry;
  try {
    entry = JSON.parse(line) as AuditEntry;
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (!isEntry(entry)) return { ok: false, reason: 'not an audit entry' };
  if (!line.endsWith(`${HASH_FIELD}${entry.hash}"}`)) return { ok: false, reason: 'hash is not the last field' };
  if (checkHash) {
    const body = `${line.slice(0, -HASH_SUFFIX_LENGTH)}}`;
    if (sha256(body) !== entry.hash) return { ok: false, reason: 'hash does not match the content' };
  }
  return { ok: true, entry };
}

function isEntry(v: unknown): v is AuditEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return Number.isSafeInteger(e.seq) && typeof e.at === 'number' && (e.tenant === null || typeof e.tenant === 'string')
    && typeof e.actor === 'string' && typeof e.action === 'string' && typeof e.target === 'string'
    && 'before' in e && 'after' in e && typeof e.prev === 'string' && typeof e.hash === 'string' && /^[0-9a-f]{64}$/.test(e.hash);
}

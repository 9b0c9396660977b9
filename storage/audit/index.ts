// storage/audit/: the append-only, hash-chained audit log of admin actions, acks, resolves
// and configuration changes.
export * from './types.ts';
export { FileAuditLog, AUDIT_FILE, DEFAULT_AUDIT_BATCH } from './file-log.ts';
export type { FileAuditLogOptions } from './file-log.ts';

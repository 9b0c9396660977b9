// storage/backup/: a stopped node's data dir (and configuration file) into a backup folder with
// a checksummed manifest, listed and restored exactly.
export { createBackup } from './create.ts';
export type { CreateOptions } from './create.ts';
export { restoreBackup, REPLACED_ON_FORCE } from './restore.ts';
export type { RestoreOptions, RestoreResult } from './restore.ts';
export { listBackups } from './list.ts';
export type { BackupSummary } from './list.ts';
export { readManifest } from './manifest.ts';
export { DEFAULT_GZIP_LEVEL } from './tsdb-part.ts';
export {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, CONFIG_PART, FILE_PARTS, MANIFEST_FILE, TENANTS_PART, TSDB_DIR,
} from './types.ts';
export type { ColumnEntry, FileEntry, FilePart, Manifest, PartEntry, Progress, TableEntry } from './types.ts';

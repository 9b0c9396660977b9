// `vigil backup restore`: every checksum first (a damaged backup is refused before the target
// is touched), then each part into an empty data dir. The restored audit log is the backed-up
// one plus one entry recording the restore itself.
import { userInfo } from 'node:os';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { VigilError } from '../../protocols/index.ts';
import { AUDIT_ACTIONS, AUDIT_FILE, FileAuditLog } from '../audit/index.ts';
import type { AuditEntry } from '../audit/index.ts';
import { copyHashed, fsyncTree, isDirectory, verifyFiles } from './files.ts';
import { readManifest } from './manifest.ts';
import { importTables } from './tsdb-part.ts';
import { openTsdb } from './tsdb-engine.ts';
import { CONFIG_PART, FILE_PARTS, TENANTS_PART, TSDB_DIR } from './types.ts';
import type { FileEntry, Manifest, Progress } from './types.ts';

/** What --force removes from a non-empty target: the parts a node keeps, nothing else. */
export const REPLACED_ON_FORCE: readonly string[] = [TSDB_DIR, ...FILE_PARTS];

export interface RestoreOptions {
  backup: string;
  dataDir: string;
  /** where to write the backed-up configuration file (absent: not written, said in the result) */
  configOut?: string | undefined;
  /** where to write the backed-up tenants file (absent: not written, said in the result) */
  tenantsOut?: string | undefined;
  /** replace a non-empty target's parts (and empty a server database) */
  force?: boolean;
  clickhouseUrl?: string | undefined;
  progress?: Progress;
}

export interface RestoreResult {
  manifest: Manifest;
  /** where the configuration file went (undefined: the backup has none, or no --config-out) */
  configWritten?: string;
  /** where the tenants file went (undefined: the backup has none, or no --tenants-out) */
  tenantsWritten?: string;
  /** the audit entry that records the restore */
  audit: AuditEntry;
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const progress = opts.progress ?? (() => {});
  const backup = resolve(opts.backup);
  const dataDir = resolve(opts.dataDir);
  if (!(await isDirectory(backup))) throw new VigilError('NOT_FOUND', `backup ${backup} does not exist`);
  const manifest = await readManifest(backup);

  // The target is judged first (nothing changes), the backup checked next, and only then is
  // anything removed or written.
  const occupied = await occupiedTarget(dataDir, !!opts.force);
  const config = manifest.parts.find((p) => p.name === CONFIG_PART)?.files[0];
  if (config && opts.configOut !== undefined && !opts.force && (await exists(opts.configOut))) {
    throw new VigilError('CONFLICT', `${opts.configOut} already exists; name a new file for --config-out or pass --force`);
  }
  const tenants = manifest.parts.find((p) => p.name === TENANTS_PART)?.files[0];
  if (tenants && opts.tenantsOut !== undefined && !opts.force && (await exists(opts.tenantsOut))) {
    throw new VigilError('CONFLICT', `${opts.tenantsOut} already exists; name a new file for --tenants-out or pass --force`);
  }
  const started = Date.now();
  const all = manifest.parts.flatMap((p) => p.files);
  await verifyFiles(backup, all);
  progress(`verified ${plural(all.length, 'file')} (${(sum(all.map((f) => f.size)) / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (occupied.includes(TSDB_DIR)) {
    // Refuses a running node before anything is removed.
    const engine = await openTsdb({ dataDir });
    await engine.close();
  }
  let configWritten: string | undefined;
  let tenantsWritten: string | undefined;
  let audit: AuditEntry;
  try {
    await mkdir(dataDir, { recursive: true });
    for (const name of occupied) await rm(join(dataDir, name), { recursive: true, force: true });

    const tsdb = manifest.parts.find((p) => p.name === TSDB_DIR);
    if (tsdb?.tables && tsdb.tables.length > 0) {
      const engine = await openTsdb({ dataDir, url: opts.clickhouseUrl });
      try {
        await importTables(engine, manifest.source.tsdb.database, backup, tsdb.tables, progress, { truncate: !!opts.force });
      } finally {
        await engine.close();
      }
    }
    for (const name of FILE_PARTS) {
      const part = manifest.parts.find((p) => p.name === name);
      if (!part || part.files.length === 0) continue;
      await mkdir(join(dataDir, name), { recursive: true });
      for (const f of part.files) await restoreFile(backup, f, join(dataDir, f.path));
      progress(`${name}: ${plural(part.files.length, 'file')} restored`);
    }
    if (config && opts.configOut !== undefined) {
      configWritten = resolve(opts.configOut);
      await rm(configWritten, { force: true });
      await restoreFile(backup, config, configWritten);
    }
    if (tenants && opts.tenantsOut !== undefined) {
      tenantsWritten = resolve(opts.tenantsOut);
      await rm(tenantsWritten, { force: true });
      await restoreFile(backup, tenants, tenantsWritten);
    }
    audit = await recordRestore(dataDir, backup, manifest);
    await fsyncTree(dataDir);
  } catch (err) {
    const code = VigilError.is(err) ? err.code : 'UNAVAILABLE';
    const why = err instanceof Error ? err.message : String(err);
    throw new VigilError(code, `${why}; ${dataDir} is incomplete: restore again with --force`, { cause: err });
  }
  return { manifest, audit, ...(configWritten ? { configWritten } : {}), ...(tenantsWritten ? { tenantsWritten } : {}) };
}

/**
 * The target must be absent or empty; with --force, the parts a node keeps (and only those)
 * are to be replaced: they are returned for removal once the backup is checked.
 */
async function occupiedTarget(dataDir: string, force: boolean): Promise<string[]> {
  let entries: string[];
  try {
    if (!(await stat(dataDir)).isDirectory()) throw new VigilError('CONFLICT', `${dataDir} exists and is not a folder`);
    entries = await readdir(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (entries.length > 0 && !force) {
    throw new VigilError('CONFLICT', `data dir ${dataDir} is not empty (${entries.length} entries); restore into an empty folder, or pass --force to replace its ${REPLACED_ON_FORCE.join(', ')}`);
  }
  return REPLACED_ON_FORCE.filter((name) => entries.includes(name));
}

/** Copies one file back, checking its sha256 again on the way (the disk may have changed since). */
async function restoreFile(backup: string, f: FileEntry, dst: string): Promise<void> {
  await mkdir(dirname(dst), { recursive: true });
  const got = await copyHashed(join(backup, f.path), dst);
  if (got.sha256 !== f.sha256 || got.size !== f.size) {
    throw new VigilError('BAD_REQUEST', `backup ${backup} is damaged: ${f.path} changed while it was restored`);
  }
}

async function recordRestore(dataDir: string, backup: string, manifest: Manifest): Promise<AuditEntry> {
  const log = await FileAuditLog.open({ path: join(dataDir, 'audit', AUDIT_FILE) });
  try {
    return await log.append({
      tenant: null,
      actor: `cli:${safeUser()}`,
      action: AUDIT_ACTIONS.backupRestore,
      target: backup,
      after: { createdAt: manifest.createdAt, nodeId: manifest.nodeId, digest: manifest.digest, files: manifest.totals.files, rows: manifest.totals.rows },
    });
  } finally {
    await log.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

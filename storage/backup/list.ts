// `vigil backup list`: the backups under a folder, each summarised from its manifest. A folder
// whose manifest is missing or damaged is listed with the reason, not skipped in silence.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VigilError } from '../../protocols/index.ts';
import { isDirectory } from './files.ts';
import { readManifest } from './manifest.ts';
import { MANIFEST_FILE } from './types.ts';

export interface BackupSummary {
  path: string;
  createdAt?: string;
  nodeId?: string;
  /** parts that hold something, e.g. ["config", "tsdb", "graph", "audit"] */
  parts?: string[];
  files?: number;
  bytes?: number;
  rows?: number;
  /** why this folder is not a usable backup */
  error?: string;
}

/** The backups in `dir` (or `dir` itself when it is one), oldest first. */
export async function listBackups(dir: string): Promise<BackupSummary[]> {
  const root = resolve(dir);
  if (!(await isDirectory(root))) throw new VigilError('NOT_FOUND', `folder ${root} does not exist`);
  const names = (await readdir(root)).sort();
  if (names.includes(MANIFEST_FILE)) return [await summarise(root)];
  const out: BackupSummary[] = [];
  for (const name of names) {
    const path = join(root, name);
    if (name.includes('.partial-') || !(await isDirectory(path))) continue;
    out.push(await summarise(path));
  }
  return out.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.path.localeCompare(b.path));
}

async function summarise(path: string): Promise<BackupSummary> {
  try {
    const m = await readManifest(path);
    return {
      path,
      createdAt: m.createdAt,
      nodeId: m.nodeId,
      parts: m.parts.filter((p) => p.files.length > 0).map((p) => p.name),
      files: m.totals.files,
      bytes: m.totals.bytes,
      rows: m.totals.rows,
    };
  } catch (err) {
    return { path, error: err instanceof Error ? err.message : String(err) };
  }
}

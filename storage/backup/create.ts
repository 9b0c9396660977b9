// `vigil backup create`: a stopped node's data dir (and its configuration file) into a new
// folder. The folder is built under a temporary name and renamed once its manifest is
// written, so a folder by the asked name is always a whole backup.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { VigilError } from '../../protocols/index.ts';
import { DEFAULT_DATABASE } from '../tsdb/index.ts';
import { copyHashed, copyTree, fsyncPath, fsyncTree, isDirectory } from './files.ts';
import { writeManifest } from './manifest.ts';
import { engineVersion, exportTables } from './tsdb-part.ts';
import { openTsdb } from './tsdb-engine.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, CONFIG_PART, FILE_PARTS, TENANTS_PART, TSDB_DIR } from './types.ts';
import type { Manifest, PartEntry, Progress } from './types.ts';

export interface CreateOptions {
  dataDir: string;
  /** the backup folder to make; it must not exist (or be an empty folder) */
  out: string;
  /** the node's YAML configuration file, copied as it is */
  configFile?: string | undefined;
  /** the tenants file the configuration names (tenancy.file), copied as it is; absent there: said so */
  tenantsFile?: string | undefined;
  nodeId: string;
  vigilVersion: string;
  /** CLICKHOUSE_URL: the tables are read from that server instead of <dataDir>/tsdb */
  clickhouseUrl?: string | undefined;
  database?: string;
  /** MEMGRAPH_URL: the topology lives there, not in <dataDir>/graph (not backed up: said so) */
  memgraphUrl?: string | undefined;
  progress?: Progress;
  now?: () => number;
}

export async function createBackup(opts: CreateOptions): Promise<Manifest> {
  const progress = opts.progress ?? (() => {});
  const dataDir = resolve(opts.dataDir);
  const out = resolve(opts.out);
  const database = opts.database ?? DEFAULT_DATABASE;
  if (!(await isDirectory(dataDir))) throw new VigilError('NOT_FOUND', `data dir ${dataDir} does not exist`);
  if (out === dataDir || out.startsWith(`${dataDir}/`)) throw new VigilError('BAD_REQUEST', `the backup folder ${out} must not be inside the data dir ${dataDir}`);
  await checkFreshTarget(out);
  if (opts.configFile !== undefined && !(await isFile(opts.configFile))) {
    throw new VigilError('NOT_FOUND', `configuration file ${opts.configFile} does not exist`);
  }
  const hasChdb = !opts.clickhouseUrl && (await isDirectory(join(dataDir, TSDB_DIR)));
  // Opened first: chdb's lock refuses a running node before anything is copied, and keeps one
  // from starting on this data dir until the backup is done.
  const engine = opts.clickhouseUrl || hasChdb ? await openTsdb({ dataDir, url: opts.clickhouseUrl }) : undefined;
  const work = `${out}.partial-${process.pid}`;
  try {
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const parts: PartEntry[] = [];
    if (opts.configFile !== undefined) {
      const rel = `${CONFIG_PART}/${basename(opts.configFile)}`;
      const { size, sha256 } = await copyHashed(opts.configFile, join(work, rel));
      parts.push({ name: CONFIG_PART, kind: 'config', files: [{ path: rel, size, sha256 }], bytes: size });
    } else {
      parts.push({ name: CONFIG_PART, kind: 'config', files: [], bytes: 0, note: 'no configuration file given (the node ran on defaults and environment)' });
    }
    const tenants = await tenantsPart(opts.tenantsFile, work);
    parts.push(tenants);
    let tsdbMeta: Manifest['source']['tsdb'] = { engine: opts.clickhouseUrl ? 'server' : 'chdb', database, engineVersion: 'none' };
    if (engine) {
      const started = Date.now();
      tsdbMeta = { engine: engine.kind, database, engineVersion: await engineVersion(engine) };
      await mkdir(join(work, TSDB_DIR), { recursive: true });
      const part = await exportTables(engine, database, work, progress);
      parts.push({ name: TSDB_DIR, kind: 'tsdb', files: part.files, bytes: sum(part.files.map((f) => f.size)), tables: part.tables });
      progress(`tsdb: ${part.tables.length} tables in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } else {
      parts.push({ name: TSDB_DIR, kind: 'tsdb', files: [], bytes: 0, tables: [], note: `${join(dataDir, TSDB_DIR)} does not exist` });
    }
    for (const name of FILE_PARTS) {
      const src = join(dataDir, name);
      if (!(await isDirectory(src))) {
        const note = name === 'graph' && opts.memgraphUrl
          ? 'the topology is in Memgraph (MEMGRAPH_URL): back it up with Memgraph\'s own tools'
          : `${src} does not exist`;
        parts.push({ name, kind: 'files', files: [], bytes: 0, note });
        continue;
      }
      const files = await copyTree(src, work, name);
      const bytes = sum(files.map((f) => f.size));
      parts.push({ name, kind: 'files', files, bytes });
      progress(`${name}: ${files.length} file${files.length === 1 ? '' : 's'}, ${(bytes / 1e6).toFixed(1)} MB`);
    }
    const known = new Set<string>([TSDB_DIR, ...FILE_PARTS]);
    const tenantsInData = opts.tenantsFile === undefined ? undefined : relative(dataDir, resolve(opts.tenantsFile));
    if (tenantsInData !== undefined && !tenantsInData.startsWith('..') && !tenantsInData.includes(sep)) known.add(tenantsInData);
    for (const entry of (await readdir(dataDir)).sort()) {
      if (!known.has(entry)) progress(`skipped ${join(dataDir, entry)}: not a part of a Vigil data dir`);
    }
    const files = parts.flatMap((p) => p.files);
    const manifest = await writeManifest(work, {
      format: BACKUP_FORMAT,
      version: BACKUP_FORMAT_VERSION,
      createdAt: new Date((opts.now ?? Date.now)()).toISOString(),
      nodeId: opts.nodeId,
      vigilVersion: opts.vigilVersion,
      source: {
        dataDir, config: opts.configFile === undefined ? null : resolve(opts.configFile),
        ...(tenants.files.length > 0 ? { tenants: resolve(opts.tenantsFile!) } : {}), tsdb: tsdbMeta,
      },
      parts,
      totals: { files: files.length, bytes: sum(files.map((f) => f.size)), rows: sum(parts.flatMap((p) => p.tables ?? []).map((t) => t.rows)) },
    });
    await fsyncTree(work);
    await rm(out, { recursive: true, force: true }); // only ever an empty folder (checked above)
    await rename(work, out);
    await fsyncPath(dirname(out));
    return manifest;
  } catch (err) {
    await rm(work, { recursive: true, force: true }).catch(() => {});
    throw err;
  } finally {
    await engine?.close();
  }
}

/**
 * The tenants file lives where the configuration says (often config/tenants.yaml), not in the
 * data dir; the admin API writes it, so it is configuration a restore needs as much as vigil.yaml.
 */
async function tenantsPart(file: string | undefined, work: string): Promise<PartEntry> {
  if (file === undefined) return { name: TENANTS_PART, kind: 'config', files: [], bytes: 0, note: 'the configuration names no tenants file (tenancy.file)' };
  if (!(await isFile(file))) {
    return { name: TENANTS_PART, kind: 'config', files: [], bytes: 0, note: `${resolve(file)} does not exist (the node ran on its configuration's tenants)` };
  }
  const rel = `${TENANTS_PART}/${basename(file)}`;
  const { size, sha256 } = await copyHashed(file, join(work, rel));
  return { name: TENANTS_PART, kind: 'config', files: [{ path: rel, size, sha256 }], bytes: size };
}

async function checkFreshTarget(out: string): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(out)).isDirectory()) throw new VigilError('CONFLICT', `${out} already exists and is not a folder`);
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (entries.length > 0) throw new VigilError('CONFLICT', `${out} already exists and is not empty; name a new folder for the backup`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

// One file per tenant under the graph folder. Written atomically (temp file, fsync, rename,
// fsync of the folder) so a crash leaves either the old or the new topology, never half of
// one. A checksum over the content catches a file that still parses but was damaged; such a
// file is refused with an error naming it, never silently replaced by an empty topology.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VigilError } from '../../protocols/index.ts';
import type { StoredService } from './tenant-graph.ts';
import { syncDir } from '../durable.ts';

export const GRAPH_FILE_VERSION = 1;
export const GRAPH_FILE_SUFFIX = '.topology.json';
const TEMP_MARK = '.tmp-';

export interface GraphFile {
  version: number;
  tenant: string;
  sha256: string;
  services: StoredService[];
}

/** A file name that is safe for any tenant name ('/' and '..' included) and reads back as it. */
export function fileNameOf(tenant: string): string {
  return `${encodeURIComponent(tenant).replace(/\./g, '%2E')}${GRAPH_FILE_SUFFIX}`;
}

function digest(services: readonly StoredService[]): string {
  return createHash('sha256').update(JSON.stringify(services)).digest('hex');
}

let tempCounter = 0;

export async function writeGraphFile(dir: string, tenant: string, services: StoredService[]): Promise<void> {
  const body: GraphFile = { version: GRAPH_FILE_VERSION, tenant, sha256: digest(services), services };
  const path = join(dir, fileNameOf(tenant));
  const temp = `${path}${TEMP_MARK}${process.pid}-${++tempCounter}`;
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(JSON.stringify(body));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** Reads every tenant's file; leftovers of an interrupted write are removed. */
export async function readGraphFiles(dir: string): Promise<Map<string, StoredService[]>> {
  await mkdir(dir, { recursive: true });
  const out = new Map<string, StoredService[]>();
  for (const name of (await readdir(dir)).sort()) {
    if (name.includes(TEMP_MARK)) {
      await rm(join(dir, name), { force: true });
      continue;
    }
    if (!name.endsWith(GRAPH_FILE_SUFFIX)) continue;
    const file = await readOne(join(dir, name));
    out.set(file.tenant, file.services);
  }
  return out;
}

async function readOne(path: string): Promise<GraphFile> {
  const corrupt = (why: string, cause?: unknown): VigilError => new VigilError(
    'INTERNAL',
    `topology file ${path} is corrupt (${why}); refusing to start without it: restore it from a backup or move it aside`,
    { cause },
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw corrupt('not valid JSON', err);
  }
  if (!isGraphFile(parsed)) throw corrupt('not a topology file');
  if (parsed.version !== GRAPH_FILE_VERSION) throw corrupt(`version ${parsed.version}, this build reads ${GRAPH_FILE_VERSION}`);
  if (digest(parsed.services) !== parsed.sha256) throw corrupt('checksum mismatch');
  const names = new Set(parsed.services.map((s) => s.name));
  if (names.size !== parsed.services.length) throw corrupt('a service is listed twice');
  for (const s of parsed.services) {
    for (const d of s.dependsOn) if (!names.has(d)) throw corrupt(`${s.name} depends on ${d}, which is not listed`);
  }
  return parsed;
}

function isGraphFile(v: unknown): v is GraphFile {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return typeof f.version === 'number' && typeof f.tenant === 'string' && typeof f.sha256 === 'string'
    && Array.isArray(f.services) && f.services.every(isStoredService);
}

function isStoredService(v: unknown): v is StoredService {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.name === 'string' && Array.isArray(s.dependsOn) && s.dependsOn.every((d) => typeof d === 'string')
    && (s.implied === undefined || s.implied === true);
}

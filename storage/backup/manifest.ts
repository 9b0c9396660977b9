// Writing and reading a backup's manifest. Its own digest catches an edited or damaged
// manifest before its checksums are trusted for the files.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VigilError } from '../../protocols/index.ts';
import { fsyncPath } from './files.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, MANIFEST_FILE } from './types.ts';
import type { Manifest } from './types.ts';

export function digestOf(manifest: Manifest): string {
  return createHash('sha256').update(JSON.stringify({ ...manifest, digest: '' })).digest('hex');
}

export async function writeManifest(dir: string, manifest: Omit<Manifest, 'digest'>): Promise<Manifest> {
  const sealed: Manifest = { ...manifest, digest: '' };
  sealed.digest = digestOf(sealed);
  const path = join(dir, MANIFEST_FILE);
  await writeFile(path, `${JSON.stringify(sealed, null, 2)}\n`, { flag: 'wx' });
  await fsyncPath(path);
  return sealed;
}

/** Reads and checks a backup's manifest; every failure names the folder and what is wrong. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VigilError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_REQUEST',
      code === 'ENOENT' ? `${dir} is not a backup (it has no ${MANIFEST_FILE})` : `${path} cannot be read (${code ?? err})`, { cause: err });
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new VigilError('BAD_REQUEST', `backup ${dir} is damaged: ${MANIFEST_FILE} is not valid JSON`, { cause: err });
  }
  if (m?.format !== BACKUP_FORMAT || !Array.isArray(m.parts)) {
    throw new VigilError('BAD_REQUEST', `backup ${dir} is damaged: ${MANIFEST_FILE} is not a Vigil backup manifest`);
  }
  if (m.version > BACKUP_FORMAT_VERSION) {
    throw new VigilError('BAD_REQUEST', `backup ${dir} has format version ${m.version}; this Vigil reads up to ${BACKUP_FORMAT_VERSION}`);
  }
  if (digestOf(m) !== m.digest) {
    throw new VigilError('BAD_REQUEST', `backup ${dir} is damaged: ${MANIFEST_FILE} does not match its digest (edited or corrupt)`);
  }
  return m;
}

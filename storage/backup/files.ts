// Files in and out of a backup: copied with their sha256 taken on the way (one read), fsynced,
// and checked against the manifest before a restore touches anything.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VigilError } from '../../protocols/index.ts';
import type { FileEntry } from './types.ts';

/**
 * Leftovers of an interrupted atomic write (graph `.tmp-<pid>`, snapshot `.<n>.tmp`, spill
 * temp names): never part of the state a store would load, so never copied.
 */
const TEMP_NAME = /\.tmp(?:$|[-.])/;

/** Every regular file under `root`, sorted, as paths relative to it; temp files left out. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (TEMP_NAME.test(e.name)) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) out.push(relative(root, path));
    }
  };
  await walk(root);
  return out;
}

/** Copies `src` to `dst` (folders made), hashing what it reads; the copy is fsynced. */
export async function copyHashed(src: string, dst: string): Promise<{ size: number; sha256: string }> {
  await mkdir(dirname(dst), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(src), tap, createWriteStream(dst, { flags: 'wx' }));
  await fsyncPath(dst);
  return { size, sha256: hash.digest('hex') };
}

/** sha256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Copies the tree under `srcRoot` to `dstRoot/prefix`, giving the entries the manifest lists. */
export async function copyTree(srcRoot: string, dstRoot: string, prefix: string): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (const rel of await listTree(srcRoot)) {
    const path = toPosix(join(prefix, rel));
    const { size, sha256 } = await copyHashed(join(srcRoot, rel), join(dstRoot, path));
    entries.push({ path, size, sha256 });
  }
  return entries;
}

/**
 * Checks every listed file of a backup: present, the size and the sha256 the manifest says.
 * The first mismatch is refused with the file named; nothing has been restored by then.
 */
export async function verifyFiles(backupDir: string, files: readonly FileEntry[]): Promise<void> {
  for (const f of files) {
    const path = join(backupDir, f.path);
    let got: { size: number; sha256: string };
    try {
      got = await hashFile(path);
    } catch (err) {
      throw new VigilError('BAD_REQUEST', `backup ${backupDir} is damaged: ${f.path} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
    }
    if (got.size !== f.size || got.sha256 !== f.sha256) {
      const why = got.size !== f.size ? `${got.size} bytes, the manifest says ${f.size}` : 'its sha256 differs from the manifest';
      throw new VigilError('BAD_REQUEST', `backup ${backupDir} is damaged: ${f.path} (${why}); refusing to restore`);
    }
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a folder and every folder under it, so renames and new entries are durable. */
export async function fsyncTree(root: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await walk(join(dir, e.name));
    await fsyncPath(dir);
  };
  await walk(root);
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export const toPosix = (p: string): string => p.split(sep).join('/');

// The tenants file on disk: read, written atomically (temp file + rename, so a reader never
// sees half a file), and watched. The watch is on the folder, not the file: editors and
// config tools replace a file by renaming over it, which ends a watch on the old inode.
// Events are debounced (an editor's save is several events; a tool may write in pieces).
import { watch, type FSWatcher } from 'node:fs';
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { Clock, TimerHandle } from '../../actors/runtime/index.ts';
import { toDocument, type TenantSpec } from './spec.ts';

export const DEFAULT_RELOAD_DEBOUNCE_MS = 250;

/** The file's text, or undefined when it does not exist. */
export async function readTenantsFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The YAML the admin API writes: what a person would write, times as ISO text. */
export function tenantsYaml(specs: readonly TenantSpec[], note: string): string {
  const tenants = specs.map(toDocument);
  return `# ${note}\n# Annotated example and every key: config/tenants.yaml in the Vigil repository.\n${stringify({ tenants }, { lineWidth: 0 })}`;
}

/** Writes `text` to `path` so that readers see the old file or the new one, never a mix. */
export async function writeTenantsFile(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Calls `onChange` once things have been quiet for `debounceMs` after the file changed. */
export function watchTenantsFile(path: string, clock: Clock, debounceMs: number, onChange: () => void): () => void {
  const name = basename(path);
  let timer: TimerHandle | undefined;
  let watcher: FSWatcher | undefined;
  const fire = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  };
  watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
    // some platforms give no name: then any change in the folder may be ours
    if (file === null || file === name) fire();
  });
  watcher.on('error', () => undefined); // a folder removed under us: the reload reports the missing file
  return () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
  };
}

// One way to make a file's creation, rename or removal survive a crash: fsync the folder
// that holds the entry (the file's own fsync covers its bytes, not its name).
import { open } from 'node:fs/promises';

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

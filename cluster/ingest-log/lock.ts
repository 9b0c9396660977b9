// One writer per log folder: two processes appending to the same segments would interleave
// groups and break the one-torn-group rule recovery relies on. A LOCK file holds the owner's
// pid and, on Linux, its start time, so a pid reused by another process after a kill -9 (common
// in containers) is not mistaken for the owner; a lock whose owner is gone is taken over.
import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diskError, IngestLogError } from './errors.ts';

const held = new Set<string>(); // folders this process has open

export async function lockFolder(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  if (held.has(path)) throw inUse(dir, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid} ${await startTime(process.pid)}`);
      await fh.close();
      held.add(path);
      return async () => {
        held.delete(path);
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw diskError('locking', dir, err);
    }
    const [pidText, started] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    const pid = Number(pidText);
    if (pid > 0 && pid !== process.pid && alive(pid) && (started === undefined || started === await startTime(pid))) throw inUse(dir, pid);
    // the owner is gone (or it was this process, before a crash of its own log): take over
    await writeFile(path, '').catch(() => undefined);
    await unlink(path).catch((e: unknown) => { throw diskError('taking over the lock of', dir, e); });
  }
  throw inUse(dir, 0);
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or '' without /proc. */
async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dir: string, pid: number): IngestLogError {
  return new IngestLogError('UNAVAILABLE', 'in-use', `ingest log: ${dir} is in use by process ${pid || 'another'}`);
}

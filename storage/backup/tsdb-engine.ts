// Opening the tsdb engine a backup reads from or a restore writes to. chdb locks its folder
// (an flock on <folder>/status, which names the holder's pid, held while open): a node running
// on the data dir is found from that file first (the open would fail too, but only after chdb
// printed its own native error), and holding the lock for the whole run keeps a node from
// starting on the folder meanwhile.
import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { VigilError } from '../../protocols/index.ts';
import { openEngine, type Engine } from '../tsdb/index.ts';
import { TSDB_DIR } from './types.ts';

export interface TsdbLocation {
  dataDir: string;
  /** a ClickHouse server (CLICKHOUSE_URL); absent: chdb in <dataDir>/tsdb */
  url?: string | undefined;
}

export async function openTsdb(loc: TsdbLocation): Promise<Engine> {
  if (loc.url) return openEngine({ url: loc.url });
  const folder = join(loc.dataDir, TSDB_DIR);
  const pid = await holderOf(folder);
  if (pid !== undefined) throw inUse(loc.dataDir, pid);
  try {
    return openEngine({ chdbPath: folder });
  } catch (err) {
    throw new VigilError('CONFLICT', `${folder} cannot be opened (is a node running on ${loc.dataDir}?): ${(err as Error).message}`, { cause: err });
  }
}

const inUse = (dataDir: string, pid: number): VigilError =>
  new VigilError('CONFLICT', `${dataDir} is in use by a running process (pid ${pid}): stop the node before a backup or restore`);

/**
 * The live process that holds chdb's folder open, if any. The status file outlives its
 * writer, so its pid counts only while that process is alive and (where /proc tells) still
 * has the file open.
 */
export async function holderOf(folder: string): Promise<number | undefined> {
  const status = join(folder, 'status');
  let pid: number;
  try {
    pid = Number(/PID:\s*(\d+)/.exec(await readFile(status, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  const real = await realpath(status).catch(() => status);
  try {
    for (const fd of await readdir(`/proc/${pid}/fd`)) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === real) return pid;
    }
    return undefined;
  } catch {
    return pid; // no /proc to ask: a live process named in the file is taken as the holder
  }
}

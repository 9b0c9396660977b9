// Opening the tsdb engine a backup reads from or a restore writes to. chdb locks its folder
// (an flock on <folder>/status, held while open): a node running on the data dir makes the
// open fail, which is how a backup or restore knows the node was not stopped. Holding the
// lock for the whole run also keeps a node from starting on the folder meanwhile.
import { readFile } from 'node:fs/promises';
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
  try {
    return openEngine({ chdbPath: folder });
  } catch (err) {
    if (/Cannot lock file|already running/i.test(causeText(err))) {
      const pid = await holderPid(folder);
      throw new VigilError('CONFLICT',
        `${loc.dataDir} is in use by a running process${pid ? ` (pid ${pid})` : ''}: stop the node before a backup or restore`, { cause: err });
    }
    throw err;
  }
}

/** chdb writes the holder's pid into <folder>/status ("PID: 123"). */
async function holderPid(folder: string): Promise<string | undefined> {
  try {
    return /PID:\s*(\d+)/.exec(await readFile(join(folder, 'status'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.join(' | ');
}

// Holds a data dir's chdb folder open, as a running node does, until its stdin closes: the
// backup tests check that a backup or restore refuses a data dir in use.
//   tsx test/support/backup-hold.ts DATA_DIR
import { join } from 'node:path';
import { TsdbStore } from '../../storage/tsdb/index.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: backup-hold.ts DATA_DIR');
const store = await TsdbStore.open({ chdbPath: join(dataDir, 'tsdb') });
process.stdout.write('holding\n');
process.stdin.resume();
await new Promise<void>((resolve) => process.stdin.once('end', resolve));
await store.close();

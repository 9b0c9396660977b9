// What the node actually stored, as opposed to what it accepted: after the child node has
// stopped, its chdb folder is opened here and the tenant's samples counted (FINAL: each
// (series, ts) once, as a query sees them).
import { join } from 'node:path';
import { TsdbStore } from '../../storage/tsdb/index.ts';

export interface StoredCount {
  samples: number;
  series: number;
}

/** Counts `tenant`'s stored samples and series in the node data folder `dataDir` (node stopped). */
export async function countStored(dataDir: string, tenant: string): Promise<StoredCount> {
  const store = await TsdbStore.open({ chdbPath: join(dataDir, 'tsdb') });
  try {
    const rows = await store.sql.rows<{ samples: string | number; series: string | number }>(
      `SELECT count() AS samples, uniqExact(service, metric, labels) AS series
       FROM ${store.sql.db}.samples FINAL WHERE tenant = {tenant:String}`, { tenant });
    return { samples: Number(rows[0]?.samples ?? 0), series: Number(rows[0]?.series ?? 0) };
  } finally {
    await store.close();
  }
}

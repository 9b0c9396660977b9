// Incidents' root-cause rankings (actors/rca): one row per ranking, the newest version per
// incident is the answer. The ranking is kept whole as JSON: it is read whole, by incident.
import type { IncidentRca } from '../../protocols/index.ts';
import type { Sql } from './sql.ts';
import type { RcaVersion, WriteMode } from './types.ts';

interface RcaRow {
  tenant: string;
  incident_id: string;
  version: number;
  computed_at: number;
  level: string;
  result: string;
}

export class RcaTable {
  constructor(private readonly sql: Sql) {}

  write(versions: readonly RcaVersion[], mode: WriteMode = {}): Promise<void> {
    return this.sql.insertJson<RcaRow>('incident_rca', versions.map(({ rca, version }) => ({
      tenant: rca.tenant, incident_id: rca.incidentId, version, computed_at: rca.computedAt, level: rca.level, result: JSON.stringify(rca),
    })), mode.signal);
  }

  /** The newest ranking of one incident of `tenant`, if any. */
  async latest(tenant: string, incidentId: string): Promise<IncidentRca | undefined> {
    const rows = await this.sql.rows<{ result: string }>(
      `SELECT argMax(result, version) AS result FROM ${this.sql.db}.incident_rca
       WHERE tenant = {tenant:String} AND incident_id = {id:String} GROUP BY tenant, incident_id`,
      { tenant, id: incidentId });
    return rows[0] ? (JSON.parse(rows[0].result) as IncidentRca) : undefined;
  }
}

// The unresolved incidents of every tenant, kept in memory and written through to the store
// as they change. A correlator that starts (or restarts) takes its tenant's over from here,
// synchronously; the node loads them from the store once, at start.
import type { Incident } from '../protocols/index.ts';
import type { OpenIncidents } from '../actors/correlation/index.ts';

export class OpenIncidentsCache implements OpenIncidents {
  private readonly byTenant = new Map<string, Map<string, Incident>>();

  unresolved(tenant: string): Incident[] {
    return [...(this.byTenant.get(tenant)?.values() ?? [])].map((i) => structuredClone(i));
  }

  get(tenant: string, id: string): Incident | undefined {
    return this.byTenant.get(tenant)?.get(id);
  }

  /** Records an incident's new state; true when the incident was not known (a new one). */
  put(incident: Incident): boolean {
    let open = this.byTenant.get(incident.tenant);
    if (!open) this.byTenant.set(incident.tenant, (open = new Map()));
    const known = open.has(incident.id);
    if (incident.status === 'resolved') open.delete(incident.id);
    else open.set(incident.id, structuredClone(incident));
    return !known && incident.status !== 'resolved';
  }

  load(incidents: readonly Incident[]): void {
    for (const i of incidents) this.put(i);
  }

  /** Tenants with an unresolved incident. */
  tenants(): string[] {
    return [...this.byTenant].filter(([, open]) => open.size > 0).map(([t]) => t);
  }

  /** Drops a tenant's incidents (cluster mode: its shard went to another node, which goes on with them). */
  forget(tenant: string): void {
    this.byTenant.delete(tenant);
  }
}

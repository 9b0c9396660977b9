// In-memory TopologyStore: the tenant's services and their dependencies as last put.
import type { Topology } from '../../protocols/index.ts';
import type { TopologyStore } from '../types.ts';

export class MemoryTopologyStore implements TopologyStore {
  private readonly tenants = new Map<string, Topology>();

  put(tenant: string, topology: Topology): void {
    this.tenants.set(tenant, structuredClone(topology));
  }

  get(tenant: string): Topology {
    const t = this.tenants.get(tenant);
    return t ? structuredClone(t) : { services: [] };
  }
}

// GraphStore on Memgraph through neo4j-driver (Bolt). Every query is parameterised; the only
// text put into Cypher is the hop bound, an integer checked against MAX_HOPS. Each service
// is one (:Service {tenant, name}) node and every match names the tenant, also inside the
// walks' filters, so one tenant's query never reaches another's nodes.
// Walks use Memgraph's breadth-first expansion (`*BFS`), which returns each service once, at
// its shortest distance; plain Cypher variable-length paths would enumerate every path.
import neo4j from 'neo4j-driver';
import type { Driver, ManagedTransaction, Record as Row } from 'neo4j-driver';
import { VigilError } from '../../protocols/index.ts';
import type { Topology } from '../../protocols/index.ts';
import { fromTopology, toStored } from './tenant-graph.ts';
import { byEdge, byHopsThenName, byName, checkHops, checkName, checkSeeds } from './types.ts';
import type { Dependency, GraphStore, Neighbours, ServiceHop, Subgraph } from './types.ts';

export const DEFAULT_MEMGRAPH_CONNECT_TIMEOUT_MS = 5_000;

export interface MemgraphOptions {
  /** bolt://host:7687; user and password may ride in the URL (bolt://user:pass@host:7687). */
  url: string;
  connectTimeoutMs?: number;
}

const SCHEMA = [
  'CREATE INDEX ON :Service(tenant)',
  'CREATE INDEX ON :Service(name)',
  'CREATE INDEX ON :Tenant(name)',
  'CREATE CONSTRAINT ON (s:Service) ASSERT s.tenant, s.name IS UNIQUE',
];

export class MemgraphGraphStore implements GraphStore {
  private constructor(private readonly driver: Driver) {}

  /** Connects, checks the server answers and creates the indexes (idempotent). */
  static async open(options: MemgraphOptions): Promise<MemgraphGraphStore> {
    const { url, auth } = splitAuth(options.url);
    const driver = neo4j.driver(url, neo4j.auth.basic(auth.user, auth.password), {
      disableLosslessIntegers: true,
      connectionTimeout: options.connectTimeoutMs ?? DEFAULT_MEMGRAPH_CONNECT_TIMEOUT_MS,
    });
    const store = new MemgraphGraphStore(driver);
    try {
      await driver.verifyConnectivity();
      for (const statement of SCHEMA) {
        // Memgraph answers an index or constraint that already exists with an error on some versions.
        await store.run('write', statement, {}).catch((err: unknown) => {
          if (!/already exists/i.test(String((err as Error).message))) throw err;
        });
      }
    } catch (err) {
      await driver.close();
      throw asVigil(`memgraph at ${url}: cannot connect or create the schema`, err);
    }
    return store;
  }

  async upsertServices(tenant: string, services: readonly string[]): Promise<void> {
    checkName('tenant', tenant);
    for (const s of services) checkName('service', s);
    await this.run('write', `
      MERGE (t:Tenant {name: $tenant})
      WITH t
      OPTIONAL MATCH (x:Service {tenant: $tenant})
      WITH coalesce(max(x.ord), -1) + 1 AS base
      UNWIND range(0, size($names) - 1) AS i
      MERGE (s:Service {tenant: $tenant, name: $names[i]})
      ON CREATE SET s.declared = true, s.ord = base + i
      ON MATCH SET s.declared = true`, { tenant, names: [...services] });
  }

  async upsertDependencies(tenant: string, dependencies: readonly Dependency[]): Promise<void> {
    checkName('tenant', tenant);
    for (const d of dependencies) {
      checkName('dependency.from', d.from);
      checkName('dependency.to', d.to);
    }
    await this.run('write', `
      MERGE (t:Tenant {name: $tenant})
      WITH t
      OPTIONAL MATCH (x:Service {tenant: $tenant})
      WITH coalesce(max(x.ord), -1) + 1 AS base
      UNWIND range(0, size($deps) - 1) AS i
      WITH base, i, $deps[i] AS d
      MERGE (a:Service {tenant: $tenant, name: d.src})
      ON CREATE SET a.declared = false, a.ord = base + 2 * i
      MERGE (b:Service {tenant: $tenant, name: d.dst})
      ON CREATE SET b.declared = false, b.ord = base + 2 * i + 1
      MERGE (a)-[r:DEPENDS_ON]->(b)
      ON CREATE SET r.ord = base + i`, { tenant, deps: dependencies.map((d) => ({ src: d.from, dst: d.to })) });
  }

  async replaceTopology(tenant: string, topology: Topology): Promise<void> {
    checkName('tenant', tenant);
    for (const s of topology.services) {
      checkName('service', s.name);
      for (const d of s.dependsOn) checkName(`${s.name}.dependsOn`, d);
    }
    // The embedded model settles duplicates and implied services, so both adapters agree.
    const stored = toStored(fromTopology(topology));
    const nodes = stored.map((s, ord) => ({ name: s.name, declared: s.implied !== true, ord }));
    const edges: Array<{ src: string; dst: string; ord: number }> = [];
    for (const s of stored) for (const to of s.dependsOn) edges.push({ src: s.name, dst: to, ord: edges.length });
    await this.transaction(async (tx) => {
      await tx.run('MERGE (t:Tenant {name: $tenant})', { tenant });
      await tx.run('MATCH (s:Service {tenant: $tenant}) DETACH DELETE s', { tenant });
      await tx.run(`UNWIND $nodes AS n
        CREATE (:Service {tenant: $tenant, name: n.name, declared: n.declared, ord: n.ord})`, { tenant, nodes });
      await tx.run(`UNWIND $edges AS e
        MATCH (a:Service {tenant: $tenant, name: e.src}), (b:Service {tenant: $tenant, name: e.dst})
        CREATE (a)-[:DEPENDS_ON {ord: e.ord}]->(b)`, { tenant, edges });
    });
  }

  async topology(tenant: string): Promise<Topology> {
    const rows = await this.run('read', `
      MATCH (s:Service {tenant: $tenant})
      OPTIONAL MATCH (s)-[r:DEPENDS_ON]->(d:Service {tenant: $tenant})
      WITH s, r, d ORDER BY r.ord
      WITH s, collect(d.name) AS deps
      RETURN s.name AS name, s.declared AS declared, deps
      ORDER BY s.ord, s.name`, { tenant });
    const declared: Topology['services'] = [];
    const implied: Topology['services'] = [];
    for (const r of rows) {
      (r.get('declared') === false ? implied : declared).push({ name: r.get('name') as string, dependsOn: r.get('deps') as string[] });
    }
    return { services: [...declared, ...implied] };
  }

  async neighbours(tenant: string, service: string): Promise<Neighbours> {
    const rows = await this.run('read', `
      MATCH (s:Service {tenant: $tenant, name: $name})
      OPTIONAL MATCH (u:Service {tenant: $tenant})-[:DEPENDS_ON]->(s)
      WITH s, collect(DISTINCT u.name) AS up
      OPTIONAL MATCH (s)-[:DEPENDS_ON]->(d:Service {tenant: $tenant})
      RETURN up, collect(DISTINCT d.name) AS down`, { tenant, name: service });
    const row = rows[0];
    if (!row) return { upstream: [], downstream: [] };
    const clean = (list: unknown): string[] => (list as string[]).filter((n) => n !== service).sort(byName);
    return { upstream: clean(row.get('up')), downstream: clean(row.get('down')) };
  }

  async upstream(tenant: string, service: string, hops: number): Promise<ServiceHop[]> {
    return this.walk(tenant, service, checkHops(hops), 'in');
  }

  async downstream(tenant: string, service: string, hops: number): Promise<ServiceHop[]> {
    return this.walk(tenant, service, checkHops(hops), 'out');
  }

  async subgraph(tenant: string, services: readonly string[], hops: number): Promise<Subgraph> {
    checkHops(hops);
    checkSeeds(services);
    const seedRows = await this.run('read', `
      UNWIND $seeds AS seed
      MATCH (s:Service {tenant: $tenant, name: seed})
      RETURN s.name AS name`, { tenant, seeds: [...new Set(services)] });
    const keep = new Set<string>(seedRows.map((r) => r.get('name') as string));
    if (hops > 0 && keep.size > 0) {
      for (const direction of ['in', 'out'] as const) {
        const rows = await this.run('read', `
          UNWIND $seeds AS seed
          MATCH (s:Service {tenant: $tenant, name: seed})
          MATCH (s)${expansion(direction, hops)}(x)
          RETURN DISTINCT x.name AS name`, { tenant, seeds: [...keep] });
        for (const r of rows) keep.add(r.get('name') as string);
      }
    }
    const names = [...keep];
    const edgeRows = await this.run('read', `
      MATCH (a:Service {tenant: $tenant})-[:DEPENDS_ON]->(b:Service {tenant: $tenant})
      WHERE a.name IN $names AND b.name IN $names
      RETURN a.name AS src, b.name AS dst`, { tenant, names });
    const dependencies = edgeRows.map((r) => ({ from: r.get('src') as string, to: r.get('dst') as string }));
    return { services: names.sort(byName), dependencies: dependencies.sort(byEdge) };
  }

  async tenants(): Promise<string[]> {
    const rows = await this.run('read', 'MATCH (t:Tenant) RETURN t.name AS name', {});
    return rows.map((r) => r.get('name') as string).sort(byName);
  }

  /** Test and backup support: removes one tenant's nodes (not part of GraphStore). */
  async dropTenant(tenant: string): Promise<void> {
    await this.run('write', 'MATCH (s:Service {tenant: $tenant}) DETACH DELETE s', { tenant });
    await this.run('write', 'MATCH (t:Tenant {name: $tenant}) DELETE t', { tenant });
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private async walk(tenant: string, service: string, hops: number, direction: 'in' | 'out'): Promise<ServiceHop[]> {
    if (hops === 0) return [];
    const rows = await this.run('read', `
      MATCH (s:Service {tenant: $tenant, name: $name})
      MATCH (s)${expansion(direction, hops)}(x)
      RETURN x.name AS name, size(walked) AS hops`, { tenant, name: service });
    return rows
      .map((r) => ({ name: r.get('name') as string, hops: r.get('hops') as number }))
      .filter((h) => h.name !== service)
      .sort(byHopsThenName);
  }

  private async run(mode: 'read' | 'write', cypher: string, params: Record<string, unknown>): Promise<Row[]> {
    const session = this.driver.session({ defaultAccessMode: mode === 'read' ? neo4j.session.READ : neo4j.session.WRITE });
    try {
      const result = await session.run(cypher, params);
      return result.records;
    } catch (err) {
      throw asVigil(`memgraph ${mode} failed`, err);
    } finally {
      await session.close();
    }
  }

  private async transaction(work: (tx: ManagedTransaction) => Promise<void>): Promise<void> {
    const session = this.driver.session({ defaultAccessMode: neo4j.session.WRITE });
    try {
      await session.executeWrite(work);
    } catch (err) {
      throw asVigil('memgraph write failed', err);
    } finally {
      await session.close();
    }
  }
}

/** Breadth-first expansion that stays inside the tenant; `walked` is the list of edges taken. */
function expansion(direction: 'in' | 'out', hops: number): string {
  const bfs = `[walked:DEPENDS_ON *BFS ..${checkHops(hops)} (e, n | n.tenant = $tenant)]`;
  return direction === 'out' ? `-${bfs}->` : `<-${bfs}-`;
}

function splitAuth(raw: string): { url: string; auth: { user: string; password: string } } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (err) {
    throw new VigilError('CONFIG_INVALID', `MEMGRAPH_URL must be a URL like bolt://127.0.0.1:7687 (got "${raw}")`, { cause: err });
  }
  const auth = { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  return { url: u.toString().replace(/\/$/, ''), auth };
}

function asVigil(message: string, err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  return new VigilError('UNAVAILABLE', `${message}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

// Chooses the topology store: Memgraph when a URL is given (the node passes MEMGRAPH_URL),
// otherwise the embedded graphology store in `<dataDir>/graph`.
import { join } from 'node:path';
import { EmbeddedGraphStore } from './embedded.ts';
import { MemgraphGraphStore } from './memgraph.ts';
import type { GraphStore } from './types.ts';

/** The embedded store's folder under the node's data folder. */
export const GRAPH_DIR = 'graph';

export interface GraphStoreOptions {
  dataDir: string;
  memgraphUrl?: string | undefined;
}

export async function openGraphStore(options: GraphStoreOptions): Promise<GraphStore> {
  if (options.memgraphUrl) return MemgraphGraphStore.open({ url: options.memgraphUrl });
  return EmbeddedGraphStore.open({ dir: join(options.dataDir, GRAPH_DIR) });
}

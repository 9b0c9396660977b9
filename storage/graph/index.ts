// storage/graph/: the tenants' service topology as a graph (GraphStore), embedded
// (graphology, persisted to files) or on Memgraph.
export * from './types.ts';
export { EmbeddedGraphStore } from './embedded.ts';
export type { EmbeddedGraphOptions } from './embedded.ts';
export { MemgraphGraphStore, DEFAULT_MEMGRAPH_CONNECT_TIMEOUT_MS } from './memgraph.ts';
export type { MemgraphOptions } from './memgraph.ts';
export { openGraphStore, GRAPH_DIR } from './open.ts';
export type { GraphStoreOptions } from './open.ts';
export { GRAPH_FILE_VERSION, GRAPH_FILE_SUFFIX, fileNameOf } from './graph-file.ts';

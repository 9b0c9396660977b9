// storage/: one interface per store (types.ts) and its adapters.
export * from './types.ts';
export { MemoryEventStore, DEFAULT_EVENT_RETENTION } from './memory/events.ts';
export { MemorySeriesStore, DEFAULT_SAMPLES_PER_SERIES } from './memory/series.ts';
export { MemoryTopologyStore } from './memory/topology.ts';
export { encodeCursor, decodeCursor } from './memory/page.ts';
export { syncDir } from './durable.ts';
